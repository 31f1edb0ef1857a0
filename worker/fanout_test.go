package worker

import (
	"sync/atomic"
	"testing"
)

func TestForEach(t *testing.T) {
	for _, tc := range []struct{ n, limit int }{{0, 8}, {1, 8}, {7, 8}, {100, 8}, {100, 1}, {5, 0}} {
		var calls [100]atomic.Int32
		var running, most atomic.Int32
		forEach(tc.n, tc.limit, func(i int) {
			now := running.Add(1)
			for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
			}
			calls[i].Add(1)
			running.Add(-1)
		})
		for i := range calls {
			want := int32(0)
			if i < tc.n {
				want = 1
			}
			if got := calls[i].Load(); got != want {
				t.Fatalf("n %d, limit %d: index %d called %d times, want %d", tc.n, tc.limit, i, got, want)
			}
		}
		if limit := int32(max(tc.limit, 1)); most.Load() > limit {
			t.Errorf("n %d, limit %d: %d calls at once", tc.n, tc.limit, most.Load())
		}
	}
}

func TestForEachPanics(t *testing.T) {
	defer func() {
		if r := recover(); r != "boom" {
			t.Fatalf("recovered %v, want the call's panic", r)
		}
	}()
	forEach(10, 3, func(i int) {
		if i == 4 {
			panic("boom")
		}
	})
	t.Fatal("forEach returned after a call panicked")
}
