package cli

import (
	"log/slog"
	"math"
	"runtime/debug"
	"testing"
)

func TestMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	log := slog.New(slog.DiscardHandler)

	for _, tc := range []struct {
		workers int
		want    int64
	}{
		{0, 176 << 20}, {1, 176 << 20}, {2, 320 << 20}, {8, 8*144<<20 + 32<<20},
	} {
		if got := memoryLimit(tc.workers); got != tc.want {
			t.Errorf("memoryLimit(%d) = %d MiB, want %d MiB", tc.workers, got>>20, tc.want>>20)
		}
	}

	t.Run("set", func(t *testing.T) {
		debug.SetMemoryLimit(math.MaxInt64)
		setMemoryLimit(2, log)
		if got := debug.SetMemoryLimit(-1); got != memoryLimit(2) {
			t.Errorf("limit %d, want %d", got, memoryLimit(2))
		}
	})
	t.Run("GOMEMLIMIT wins", func(t *testing.T) {
		t.Setenv("GOMEMLIMIT", "1GiB")
		debug.SetMemoryLimit(1 << 30)
		setMemoryLimit(1, log)
		if got := debug.SetMemoryLimit(-1); got != 1<<30 {
			t.Errorf("limit %d MiB, want the user's 1024 MiB", got>>20)
		}
	})
}
