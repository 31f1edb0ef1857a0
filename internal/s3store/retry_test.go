package s3store_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/s3load/s3load/internal/s3store"
	"github.com/s3load/s3load/internal/testenv"
	"github.com/s3load/s3load/messages"
)

// TestTLSFailureIsNotRetried: the SDK counts a failed handshake as a
// connection error and would try again; no attempt can make the
// certificate trusted, so the load's client makes one.
func TestTLSFailureIsNotRetried(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	var conns atomic.Int32
	srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake errors are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	st, err := s3store.New(context.Background(), s3store.Config{
		Region: "us-east-1", Endpoint: srv.URL, PathStyle: true, AccessKeyID: "AK", SecretAccessKey: fakeSecret,
	})
	if err != nil {
		t.Fatal(err)
	}
	err = st.List(context.Background(), srcBucket, "", "", func([]messages.Source) error { return nil })
	if !errors.Is(err, s3store.ErrTLS) {
		t.Fatalf("List: %v, want ErrTLS", err)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections, want 1: the handshake failure was retried", n)
	}
}

// TestMissingCredentialsAreNotRetried: when the credential chain finds
// nothing, the load's client asks it once, not once per attempt: each
// round probes the instance metadata service, which on a machine without
// one costs seconds. Here the service drops every connection, which its
// client and the SDK's both count as worth retrying.
func TestMissingCredentialsAreNotRetried(t *testing.T) {
	imds, accepted := droppingServer(t)
	noCredentials(t)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "false")
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://"+imds)

	st, err := s3store.New(context.Background(), s3store.Config{Region: "us-east-1", Endpoint: "http://" + testenv.RefusedAddr(t), PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = st.List(context.Background(), srcBucket, "", "", func([]messages.Source) error { return nil })
	t.Logf("List after %v, %d connections to the metadata service: %v", time.Since(start).Round(time.Millisecond), accepted.Load(), err)
	if !errors.Is(err, s3store.ErrNoCredentials) {
		t.Fatalf("List: %v, want ErrNoCredentials", err)
	}
	// One round is the metadata client's 3 attempts at a token, then 3
	// at the role.
	if n := accepted.Load(); n > 6 {
		t.Errorf("%d connections to the instance metadata service, want one round of at most 6", n)
	}
}

// droppingServer closes every connection it accepts, until the test ends,
// and counts them.
func droppingServer(t *testing.T) (string, *atomic.Int32) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var accepted atomic.Int32
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return // the listener closed
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
	})
	return l.Addr().String(), &accepted
}

// noCredentials leaves the AWS credential chain nothing to find.
func noCredentials(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", empty)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", empty)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, k := range []string{
		"AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY", "AWS_SESSION_TOKEN",
		"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
	} {
		t.Setenv(k, "") // restored after the test
		os.Unsetenv(k)
	}
}
