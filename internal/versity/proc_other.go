//go:build !linux

package versity

import (
	"errors"
	"os/exec"
	"time"
)

// dieWithParent: only Linux can tie a child's life to its parent's.
func dieWithParent(*exec.Cmd) {}

// cpuTime: only Linux's /proc is read.
func cpuTime(int) (time.Duration, error) {
	return 0, errors.New("a process's CPU time is read on Linux only")
}
