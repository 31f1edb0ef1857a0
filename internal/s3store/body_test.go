package s3store_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/s3load/s3load/internal/s3store"
	"github.com/s3load/s3load/messages"
)

// TestTruncatedBody: a body that ends early must never read as a complete
// object, whether the connection drops before Content-Length bytes or the
// store announces (and sends) fewer bytes than were listed.
func TestTruncatedBody(t *testing.T) {
	const listed = 100
	tests := []struct {
		name string
		// announced is the Content-Length sent; sent is how many bytes
		// actually go out before the connection closes.
		announced, sent int
	}{
		{"connection closed mid-body", listed, 10},
		{"short object", 10, 10},
		{"empty body", 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := fakeS3(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("ETag", `"e"`)
				w.Header().Set("Content-Length", strconv.Itoa(tc.announced))
				if rg := r.Header.Get("Range"); rg != "" {
					w.Header().Set("Content-Range", "bytes 0-"+strconv.Itoa(tc.announced-1)+"/"+strconv.Itoa(listed))
					w.WriteHeader(http.StatusPartialContent)
				} else {
					w.WriteHeader(http.StatusOK)
				}
				w.Write(make([]byte, tc.sent))
				w.(http.Flusher).Flush()
				if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
					conn.Close()
				}
			})
			obj := st.Object(messages.Source{Bucket: "b", Key: "k", ETag: "e", Size: listed})
			ctx := context.Background()

			body, err := obj.Open(ctx)
			if err != nil {
				t.Fatal(err)
			}
			n, err := io.Copy(io.Discard, body)
			body.Close()
			if !errors.Is(err, s3store.ErrTruncated) {
				t.Fatalf("Open: read %d bytes, err %v; want ErrTruncated", n, err)
			}
			if !s3store.IsTransient(err) {
				t.Errorf("Open: truncation not transient: %v", err)
			}

			if tc.announced == 0 {
				return // a 206 with no bytes is not a range answer
			}
			p := make([]byte, 50)
			n2, err := obj.ReadAt(ctx, p, 0)
			if !errors.Is(err, s3store.ErrTruncated) {
				t.Fatalf("ReadAt: read %d bytes, err %v; want ErrTruncated", n2, err)
			}
		})
	}
}

// TestLoadClientFailsStalledReads: the client a load reads with has the
// read inactivity timeout TestStalledBody exercises. (A client built for
// the load's connection pool once dropped it: a dead peer would then have
// stalled a worker until TCP gave up.)
func TestLoadClientFailsStalledReads(t *testing.T) {
	st, err := s3store.New(context.Background(), s3store.Config{Endpoint: "http://127.0.0.1:9", AccessKeyID: "k", SecretAccessKey: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if got := s3store.LoadReadTimeout(st); got != s3store.ReadTimeout {
		t.Fatalf("the load's client has read timeout %v, want %v", got, s3store.ReadTimeout)
	}
}

// TestStalledBody: a store that stops sending mid-body fails the read with
// a transient error instead of hanging the worker.
func TestStalledBody(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(http.StatusOK)
		w.Write(make([]byte, 10))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	st, err := s3store.NewStallTimeout(context.Background(), s3store.Config{
		Region: "us-east-1", Endpoint: srv.URL, PathStyle: true, AccessKeyID: "AK", SecretAccessKey: fakeSecret,
	}, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	body, err := st.Object(messages.Source{Bucket: "b", Key: "k", ETag: "e", Size: 100}).Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	_, err = io.Copy(io.Discard, body)
	if err == nil || !s3store.IsTransient(err) {
		t.Fatalf("stalled read: %v, want a transient error", err)
	}
}

// sourceObject is decode.Object's method set, restated so this package
// need not import its consumer.
type sourceObject interface {
	Name() string
	Size() int64
	Open(ctx context.Context) (io.ReadCloser, error)
	ReadAt(ctx context.Context, p []byte, off int64) (int, error)
}

var _ sourceObject = (*s3store.Object)(nil)
