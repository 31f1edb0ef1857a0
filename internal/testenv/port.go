package testenv

import (
	"fmt"
	"testing"

	"github.com/s3load/s3load/internal/versity"
)

// FreePort is a TCP port on 127.0.0.1 nothing listens on right now, for a
// server a test starts. An address that must stay unanswered is
// RefusedAddr's: a free port may be given to another process at once.
func FreePort(t testing.TB) int {
	t.Helper()
	port, err := versity.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// FreeAddr is FreePort as host:port.
func FreeAddr(t testing.TB) string {
	t.Helper()
	return fmt.Sprintf("127.0.0.1:%d", FreePort(t))
}
