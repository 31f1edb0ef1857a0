package cli

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
)

// CPUProfileEnv names a file for a CPU profile of the whole command, for
// a performance report or docs/performance.md (`go tool pprof` reads it).
const CPUProfileEnv = "S3LOAD_CPU_PROFILE"

// startCPUProfile starts the profile CPUProfileEnv asks for and returns
// what stops and writes it; a profile that cannot start is said on stderr
// and does not stop the command.
func startCPUProfile(stderr io.Writer) (stop func()) {
	path := os.Getenv(CPUProfileEnv)
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(stderr, "s3load: %s: %v\n", CPUProfileEnv, err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(stderr, "s3load: %s: %v\n", CPUProfileEnv, err)
		_ = f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			fmt.Fprintf(stderr, "s3load: %s: %v\n", CPUProfileEnv, err)
		}
	}
}
