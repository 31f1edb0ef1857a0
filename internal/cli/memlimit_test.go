package cli

import (
	"context"
	"log/slog"
	"math"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"
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
		stop := keepMemoryLimit(2, log)
		defer stop()
		// Set at once; the follower's first look comes a period later.
		if got := debug.SetMemoryLimit(-1); got != memoryLimit(2) {
			t.Errorf("limit %d, want %d", got, memoryLimit(2))
		}
	})
	t.Run("GOMEMLIMIT wins", func(t *testing.T) {
		t.Setenv("GOMEMLIMIT", "1GiB")
		debug.SetMemoryLimit(1 << 30)
		stop := keepMemoryLimit(1, log)
		defer stop()
		if got := debug.SetMemoryLimit(-1); got != 1<<30 {
			t.Errorf("limit %d MiB, want the user's 1024 MiB", got>>20)
		}
	})
}

func TestLimitFor(t *testing.T) {
	const base = 176 << 20
	for _, tc := range []struct {
		live, want int64
	}{
		{0, base},
		{50 << 20, base},       // a worker's bounded heap: the base trims the collector's headroom
		{72 << 20, base},       // 2×72+32 = 176: still the base
		{100 << 20, 232 << 20}, // past it: twice the live heap and the allowance
		{400 << 20, 832 << 20}, // a million files' records: collected as often as GOGC=100 would
		{math.MaxInt32, 2*math.MaxInt32 + SharedHeap},
	} {
		if got := limitFor(base, tc.live); got != tc.want {
			t.Errorf("limitFor(%d MiB, live %d MiB) = %d MiB, want %d MiB", base>>20, tc.live>>20, got>>20, tc.want>>20)
		}
	}
}

// TestFollowLiveHeap: the limit goes up with the live heap, comes back
// to the base when it shrinks, is set only when it changes, and the
// follower stops with its context.
func TestFollowLiveHeap(t *testing.T) {
	const base = 100 << 20
	var live atomic.Int64
	var mu sync.Mutex
	var sets []int64
	last := func() (int64, int) {
		mu.Lock()
		defer mu.Unlock()
		if len(sets) == 0 {
			return 0, 0
		}
		return sets[len(sets)-1], len(sets)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		followLiveHeap(ctx, base, time.Millisecond, live.Load, func(limit int64) {
			mu.Lock()
			sets = append(sets, limit)
			mu.Unlock()
		})
	}()

	live.Store(300 << 20)
	waitFor(t, "the limit to follow a live heap of 300 MiB", 5*time.Second, func() bool {
		l, _ := last()
		return l == 632<<20
	})
	_, n := last()
	live.Store(10 << 20)
	waitFor(t, "the limit to come back to the base", 5*time.Second, func() bool {
		l, _ := last()
		return l == base
	})
	if _, m := last(); m != n+1 {
		t.Errorf("%d limits set for two changes of the live heap, want one each: %v", m, sets)
	}

	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the follower did not stop with its context")
	}
}

// TestKeepMemoryLimitFollowsTheRuntime reads the runtime's own live heap:
// holding 128 MiB raises a base of 16 MiB to at least 288 MiB, and
// letting it go brings the limit back.
func TestKeepMemoryLimitFollowsTheRuntime(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	defer followMemoryLimit(16<<20, 5*time.Millisecond)()

	held := make([]byte, 128<<20)
	for i := range held {
		held[i] = byte(i)
	}
	runtime.GC()
	waitFor(t, "the limit to follow 128 MiB held", 5*time.Second, func() bool {
		return debug.SetMemoryLimit(-1) >= 2*(128<<20)+SharedHeap
	})
	runtime.KeepAlive(held)
	held = nil
	runtime.GC()
	waitFor(t, "the limit to come back down", 5*time.Second, func() bool {
		runtime.GC()
		return debug.SetMemoryLimit(-1) < 128<<20
	})
}
