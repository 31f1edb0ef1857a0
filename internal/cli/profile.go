package cli

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"runtime/trace"
)

// CPUProfileEnv names a file for a CPU profile of the whole command, for
// a performance report or docs/performance.md (`go tool pprof` reads it).
const CPUProfileEnv = "S3LOAD_CPU_PROFILE"

// TraceEnv names a file for an execution trace of the whole command
// (`go tool trace` reads it): where a load waits rather than computes,
// which a CPU profile does not show.
const TraceEnv = "S3LOAD_TRACE"

// AllocsProfileEnv names a file for the profile of what the whole command
// allocated (`go tool pprof -sample_index=alloc_space` reads it): where
// the garbage collector's work comes from.
const AllocsProfileEnv = "S3LOAD_ALLOCS_PROFILE"

// startProfiles starts the CPU profile, the execution trace and the
// allocation profile the environment asks for and returns what stops and
// writes them; one that cannot start is said on stderr and does not stop
// the command.
func startProfiles(stderr io.Writer) (stop func()) {
	stopCPU := startProfile(stderr, CPUProfileEnv, pprof.StartCPUProfile, pprof.StopCPUProfile)
	stopTrace := startProfile(stderr, TraceEnv, trace.Start, trace.Stop)
	var allocsTo io.Writer // the runtime samples allocations all along: only the writing waits for the end
	stopAllocs := startProfile(stderr, AllocsProfileEnv, func(w io.Writer) error { allocsTo = w; return nil }, func() {
		if err := pprof.Lookup("allocs").WriteTo(allocsTo, 0); err != nil {
			fmt.Fprintf(stderr, "s3load: %s: %v\n", AllocsProfileEnv, err)
		}
	})
	return func() {
		stopAllocs()
		stopTrace()
		stopCPU()
	}
}

// startProfile starts one profile into the file env names, if it names one.
func startProfile(stderr io.Writer, env string, start func(io.Writer) error, stop func()) func() {
	path := os.Getenv(env)
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(stderr, "s3load: %s: %v\n", env, err)
		return func() {}
	}
	if err := start(f); err != nil {
		fmt.Fprintf(stderr, "s3load: %s: %v\n", env, err)
		_ = f.Close()
		return func() {}
	}
	return func() {
		stop()
		if err := f.Close(); err != nil {
			fmt.Fprintf(stderr, "s3load: %s: %v\n", env, err)
		}
	}
}
