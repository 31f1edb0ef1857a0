package soak

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill the child if the test process dies
// without running its cleanups (a panic, a -timeout), so no process of the
// soak outlives it.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
