package cli

import (
	"context"
	"log/slog"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// The Go heap a process of s3load keeps to, unless GOMEMLIMIT says
// otherwise: a worker's files, batches and row groups are bounded by
// design (docs/performance.md: under 256 MB of RSS a worker), but garbage
// is collected at twice the live heap, and a Parquet conversion's peak
// went over 256 MB on one machine (254-263 MB, where a limit of 180 MiB
// held it at 235 MB at no measured cost). The limit is soft, and it
// follows the live heap (limitFor): what a process holds beyond its
// workers' bounded memory, a coordinator's records of a large listing or
// an embedded NATS server's index of them, grows with the bucket.
const (
	// WorkerHeap is the heap one in-process worker is given.
	WorkerHeap = 144 << 20
	// SharedHeap is the heap of what a process has once whatever its
	// workers: the coordinator, an embedded NATS server, the clients.
	SharedHeap = 32 << 20
)

// heapFollowEvery is how often the limit is brought up to date with the
// live heap. Between two looks a live heap that outgrew the limit is
// collected more often than it needs, for this long at most.
const heapFollowEvery = 100 * time.Millisecond

// memoryLimit is the base soft heap limit of a process with workers
// workers.
func memoryLimit(workers int) int64 {
	return int64(max(workers, 1))*WorkerHeap + SharedHeap
}

// limitFor is the soft limit of a process whose base limit is base and
// whose live heap is live: base while the live heap is small, and twice
// the live heap (what the collector lets a heap grow to at GOGC=100) plus
// the shared allowance (the limit counts stacks and the runtime's own
// memory too) once it is not. A fixed limit under a live heap that
// outgrew it has the collector run back to back: listing a million keys
// under `s3load run`'s limit of one worker took 93-147 s and 176-182 CPU-s
// against 27 s and 44 CPU-s without, and 27-28 s and 44-46 CPU-s with
// this; without the allowance 30-31 s and 51-52 CPU-s (BenchmarkListing,
// docs/performance.md).
func limitFor(base, live int64) int64 {
	return max(base, 2*live+SharedHeap)
}

// keepMemoryLimit gives the Go runtime the soft limit of a process with
// workers workers and keeps it following the live heap until stop is
// called. If the user set GOMEMLIMIT, the runtime applies theirs and it
// is left alone.
func keepMemoryLimit(workers int, log *slog.Logger) (stop func()) {
	if _, set := os.LookupEnv("GOMEMLIMIT"); set {
		return func() {}
	}
	base := memoryLimit(workers)
	log.Debug("go heap limit set", "bytes", base, "workers", workers)
	return followMemoryLimit(base, heapFollowEvery)
}

// followMemoryLimit sets the runtime's soft limit to base and has it
// follow the live heap (limitFor), looking every period, until stop is
// called.
func followMemoryLimit(base int64, every time.Duration) (stop func()) {
	debug.SetMemoryLimit(base)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		followLiveHeap(ctx, base, every, liveHeap(), func(limit int64) { debug.SetMemoryLimit(limit) })
	}()
	return func() {
		cancel()
		<-done
	}
}

// followLiveHeap sets limitFor(base, live()) every period, when it
// changed, until ctx ends.
func followLiveHeap(ctx context.Context, base int64, every time.Duration, live func() int64, set func(limit int64)) {
	t := time.NewTicker(every)
	defer t.Stop()
	cur := base
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if limit := limitFor(base, live()); limit != cur {
			set(limit)
			cur = limit
		}
	}
}

// liveHeap reads the heap the last collection found live.
func liveHeap() func() int64 {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	return func() int64 {
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return 0 // not known to this runtime: the base limit stands
		}
		return int64(sample[0].Value.Uint64())
	}
}
