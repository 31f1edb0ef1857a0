//go:build unix

package testenv

import (
	"fmt"
	"syscall"
	"testing"
)

// RefusedAddr is a 127.0.0.1 address that refuses every connection for the
// rest of the test: a socket bound to it and never listening. Holding the
// port bound, rather than closing a listener and hoping, keeps another
// test process's server from being given the port meanwhile (a closed
// port was once handed to a parallel package's NATS server, and an S3
// client reached NATS instead of nothing).
func RefusedAddr(t testing.TB) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatalf("socket for a refused address: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatalf("binding a refused address: %v", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatalf("naming a refused address: %v", err)
	}
	in4, ok := sa.(*syscall.SockaddrInet4)
	if !ok {
		t.Fatalf("refused address: bound to %T, want IPv4", sa)
	}
	return fmt.Sprintf("127.0.0.1:%d", in4.Port)
}
