package initgc

import (
	"runtime/debug"
	"testing"
)

// Release gives back the GOGC the runtime started with (100 in tests,
// unless GOGC says otherwise): collection is never left off.
func TestReleaseRestoresGOGC(t *testing.T) {
	Release()
	if got := debug.SetGCPercent(percent); got != percent || got < 0 {
		t.Fatalf("after Release the GC percent is %d, want %d (and on)", got, percent)
	}
}
