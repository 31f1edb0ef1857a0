package worker

import (
	"sync"
	"sync/atomic"
)

// forEach calls fn(i) for every i in [0, n) on at most limit goroutines,
// and returns when every call has. Each goroutine takes the next index
// when done with its last, so a stack grown once by the state store's or
// the store's client (tens of KiB) serves the next calls: a goroutine per
// file copied its stack up again for every file, 9% of a 10,000-file
// load's CPU. A panic in fn is raised again here, once every call ended.
func forEach(n, limit int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var panicked any
	for range min(max(limit, 1), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					once.Do(func() { panicked = r })
				}
			}()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				fn(i)
			}
		}()
	}
	wg.Wait()
	if panicked != nil {
		panic(panicked)
	}
}
