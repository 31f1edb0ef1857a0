package versity

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill the server if the parent dies
// without running its cleanups (a panic, a test -timeout, a killed demo), so no orphaned
// server keeps running on the machine.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
