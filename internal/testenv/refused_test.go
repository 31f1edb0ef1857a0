//go:build unix

package testenv

import (
	"errors"
	"net"
	"syscall"
	"testing"
)

// The address refuses connections, and while the test holds it no
// listener can be given its port.
func TestRefusedAddr(t *testing.T) {
	addr := RefusedAddr(t)
	if c, err := net.Dial("tcp", addr); !errors.Is(err, syscall.ECONNREFUSED) {
		if c != nil {
			c.Close()
		}
		t.Fatalf("dialing %s: %v, want connection refused", addr, err)
	}
	if l, err := net.Listen("tcp", addr); err == nil {
		l.Close()
		t.Fatalf("listening on %s succeeded while it is held", addr)
	}
}
