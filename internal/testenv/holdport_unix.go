//go:build unix

package testenv

import (
	"fmt"
	"syscall"
)

// heldPort is a socket bound to a 127.0.0.1 port that never listens:
// connections to the port are refused, and the kernel gives the port to
// no one else while it is held.
type heldPort struct {
	fd   int
	port int
}

// holdPort binds port (0: any free one). reuse sets SO_REUSEADDR, needed
// to bind a port whose listener just closed while its connections linger
// in TIME_WAIT; a listener of another process can then still be bound to
// it explicitly, but never by asking for any free port.
func holdPort(port int, reuse bool) (*heldPort, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	syscall.CloseOnExec(fd) // a server the test starts must not inherit it
	if reuse {
		if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
			_ = syscall.Close(fd)
			return nil, fmt.Errorf("SO_REUSEADDR: %w", err)
		}
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		_ = syscall.Close(fd)
		return nil, fmt.Errorf("binding 127.0.0.1:%d: %w", port, err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		_ = syscall.Close(fd)
		return nil, fmt.Errorf("getsockname: %w", err)
	}
	in4, ok := sa.(*syscall.SockaddrInet4)
	if !ok {
		_ = syscall.Close(fd)
		return nil, fmt.Errorf("bound to %T, want IPv4", sa)
	}
	return &heldPort{fd: fd, port: in4.Port}, nil
}

func (h *heldPort) release() { _ = syscall.Close(h.fd) }
