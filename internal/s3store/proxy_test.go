package s3store_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
)

// recordingProxy passes requests on to an S3 server, keeping each one's
// method, query and headers, and lets a test answer chosen requests
// itself: with a 503 as a store in trouble does, or by dropping the
// connection. (testenv.Proxy neither records headers nor drops.)
type recordingProxy struct {
	endpoint string

	mu    sync.Mutex
	seen  []seenRequest
	fault func(*http.Request) fault
}

type seenRequest struct {
	method string
	path   string
	query  url.Values
	header http.Header
	fault  fault
}

type fault int

const (
	pass fault = iota
	slowDown
	drop
)

func newRecordingProxy(t *testing.T, upstream string) *recordingProxy {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	p := &recordingProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		f := pass
		if p.fault != nil {
			f = p.fault(r)
		}
		p.seen = append(p.seen, seenRequest{method: r.Method, path: r.URL.Path, query: r.URL.Query(), header: r.Header.Clone(), fault: f})
		p.mu.Unlock()
		switch f {
		case slowDown:
			// Read the body first, as S3 does: a server that answers
			// mid-body resets the connection, and the client sees that
			// instead of the 503.
			_, _ = io.Copy(io.Discard, r.Body)
			s3Error(w, http.StatusServiceUnavailable, "SlowDown")
		case drop:
			// Mid-request, before the body is read: the client sees a
			// reset or an EOF, as when a load balancer drops it.
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Errorf("hijacking: %v", err)
				return
			}
			conn.Close()
		default:
			rp.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	p.endpoint = srv.URL
	return p
}

// setFault decides, for every later request, whether it passes.
func (p *recordingProxy) setFault(f func(*http.Request) fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fault = f
}

func (p *recordingProxy) requests() []seenRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]seenRequest(nil), p.seen...)
}

// operation names an S3 request by its method and query.
func (r seenRequest) operation() string {
	switch {
	case r.method == http.MethodPut && r.query.Has("partNumber"):
		return "UploadPart"
	case r.method == http.MethodPut:
		return "PutObject"
	case r.method == http.MethodPost && r.query.Has("uploads"):
		return "CreateMultipartUpload"
	case r.method == http.MethodPost && r.query.Has("uploadId"):
		return "CompleteMultipartUpload"
	case r.method == http.MethodDelete && r.query.Has("uploadId"):
		return "AbortMultipartUpload"
	case r.method == http.MethodDelete:
		return "DeleteObject"
	case r.method == http.MethodGet && r.query.Get("list-type") == "2":
		return "ListObjectsV2"
	case r.method == http.MethodGet:
		return "GetObject"
	case r.method == http.MethodHead:
		return "HeadObject"
	}
	return r.method
}

// isPart matches UploadPart requests of part n.
func isPart(n string) func(*http.Request) bool {
	return func(r *http.Request) bool {
		return r.Method == http.MethodPut && r.URL.Query().Get("partNumber") == n
	}
}
