package testenv

import (
	"fmt"
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
	h, err := holdPort(0, false)
	if err != nil {
		t.Fatalf("holding a port that refuses connections: %v", err)
	}
	t.Cleanup(h.release)
	return fmt.Sprintf("127.0.0.1:%d", h.port)
}
