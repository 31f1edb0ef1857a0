package cli

import (
	"log/slog"
	"os"
	"runtime/debug"
)

// The Go heap a process of s3load keeps to, unless GOMEMLIMIT says
// otherwise: a worker's files, batches and row groups are bounded by
// design (docs/performance.md: under 256 MB of RSS a worker), but garbage
// is collected at twice the live heap, and a Parquet conversion's peak
// went over 256 MB on one machine (254-263 MB, where a limit of 180 MiB
// held it at 235 MB at no measured cost). The limit is soft: a load that
// needs more live memory gets it, and pays with more frequent collections.
const (
	// WorkerHeap is the heap one in-process worker is given.
	WorkerHeap = 144 << 20
	// SharedHeap is the heap of what a process has once whatever its
	// workers: the coordinator, an embedded NATS server, the clients.
	SharedHeap = 32 << 20
)

// memoryLimit is the soft heap limit of a process with workers workers.
func memoryLimit(workers int) int64 {
	return int64(max(workers, 1))*WorkerHeap + SharedHeap
}

// setMemoryLimit gives the Go runtime the soft limit of a process with
// workers workers, unless the user set GOMEMLIMIT (the runtime applies it).
func setMemoryLimit(workers int, log *slog.Logger) {
	if _, set := os.LookupEnv("GOMEMLIMIT"); set {
		return
	}
	limit := memoryLimit(workers)
	debug.SetMemoryLimit(limit)
	log.Debug("go heap limit set", "bytes", limit, "workers", workers)
}
