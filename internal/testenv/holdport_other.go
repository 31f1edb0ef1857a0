//go:build !unix

package testenv

import "errors"

type heldPort struct{ port int }

// holdPort needs a socket that is bound and never listens, which the net
// package cannot make; the unix version does it with syscall.
func holdPort(int, bool) (*heldPort, error) {
	return nil, errors.New("holding a port is implemented on unix only")
}

func (*heldPort) release() {}
