package soak

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"
)

// process is one child process of the soak (nats-server, an s3load
// coordinator or worker), its output in a log file of its own.
type process struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	// done is closed once the process has exited and state is set.
	done  chan struct{}
	state *os.ProcessState
	// killed: the soak sent it SIGKILL, on purpose.
	killed atomic.Bool
	// onExit, if set, is called once the process has exited.
	onExit func(*process)
}

// startProcess starts bin with args, its stdout and stderr appended to
// logPath, and env added to the test's environment.
func startProcess(name, logPath string, env []string, onExit func(*process), bin string, args ...string) (*process, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s: opening its log: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), env...)
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &process{name: name, logPath: logPath, cmd: cmd, done: make(chan struct{}), onExit: onExit}
	go func() { // owned by p: it ends when the process does, which kill and stop bring about.
		_ = cmd.Wait()
		f.Close()
		p.state = cmd.ProcessState
		close(p.done)
		if p.onExit != nil {
			p.onExit(p)
		}
	}()
	return p, nil
}

// running says whether the process has not exited yet.
func (p *process) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL and waits for the process to be gone. It reports
// whether the process died of it: false if it had exited on its own.
func (p *process) kill() bool {
	p.killed.Store(true)
	_ = p.cmd.Process.Signal(syscall.SIGKILL) // an exited process shows in its state
	<-p.done
	return p.killedByUs()
}

// stop asks the process to stop with SIGTERM and kills it if it has not
// within grace.
func (p *process) stop(grace time.Duration) {
	if !p.running() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.kill()
	}
}

// killedByUs says the process died of a SIGKILL the soak sent.
func (p *process) killedByUs() bool {
	ws, ok := p.state.Sys().(syscall.WaitStatus)
	return p.killed.Load() && ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// String names the process and, once it has exited, how.
func (p *process) String() string {
	if p.running() {
		return fmt.Sprintf("%s (pid %d)", p.name, p.cmd.Process.Pid)
	}
	return fmt.Sprintf("%s (pid %d, %s)", p.name, p.cmd.Process.Pid, p.state)
}

// tail is the end of the process's output, at most n bytes.
func (p *process) tail(n int64) string {
	f, err := os.Open(p.logPath)
	if err != nil {
		return fmt.Sprintf("(no output: %v)", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > n {
		if _, err := f.Seek(fi.Size()-n, io.SeekStart); err != nil {
			return fmt.Sprintf("(output unreadable: %v)", err)
		}
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return fmt.Sprintf("(output unreadable: %v)", err)
	}
	return string(b)
}

// logFile names the log of the n-th instance of a process.
func logFile(dir, name string, n int) string {
	return filepath.Join(dir, fmt.Sprintf("%s-%02d.log", name, n))
}
