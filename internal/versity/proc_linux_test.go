package versity

import (
	"os"
	"syscall"
	"testing"
	"time"
)

// cpuTime reads what the kernel counts: for this process, what getrusage
// says, to a tick or two.
func TestCPUTimeMatchesRusage(t *testing.T) {
	// Burn 100 ms of CPU, so that a parse returning 0 cannot pass.
	for rusageCPU(t) < 100*time.Millisecond {
	}
	before := rusageCPU(t)
	got, err := cpuTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	after := rusageCPU(t)
	if got < before-30*time.Millisecond || got > after+10*time.Millisecond {
		t.Errorf("cpuTime = %v, getrusage says %v before and %v after", got, before, after)
	}
}

func rusageCPU(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
