package testenv

import (
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Proxy stands between s3load and an S3 server and breaks the path on
// command, the way real outages do: Down refuses every connection (the
// endpoint is down) until Up; Fail answers chosen requests with an error
// status; Throttle answers a share of object GETs as an overloaded store
// does, until StopThrottle. Requests pass with their Host header and
// signature untouched.
type Proxy struct {
	// Endpoint is the proxy's URL, to use in place of the server's.
	Endpoint string

	addr     string
	port     int
	upstream *url.URL
	t        testing.TB

	mu  sync.Mutex
	srv *http.Server
	// held keeps the port while the proxy is down, so that no server a
	// parallel test starts is given it: the endpoint must refuse, not
	// answer as something else.
	held     *heldPort
	rules    []*rule
	corrupt  []*rule // status and code unused: the body is changed
	throttle *throttle
	// Requests counts requests answered, passed or failed; Injected the
	// ones failed by a rule.
	Requests, Injected atomic.Int64
	// Throttled counts the object GETs Throttle answered.
	Throttled atomic.Int64
}

// throttle answers a share of object GETs with status and code.
type throttle struct {
	rate   float64
	status int
	code   string
}

// rule fails the next n requests match accepts with status.
type rule struct {
	match  func(*http.Request) bool
	status int
	code   string
	n      int
}

// NewProxy starts a proxy to upstream (an http:// endpoint) on a free
// 127.0.0.1 port and stops it when the test ends.
func NewProxy(t testing.TB, upstream string) *Proxy {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{Endpoint: "http://" + l.Addr().String(), addr: l.Addr().String(), port: l.Addr().(*net.TCPAddr).Port, upstream: u, t: t}
	p.serve(l)
	t.Cleanup(func() {
		p.Down()
		p.release()
	})
	return p
}

func (p *Proxy) serve(l net.Listener) {
	rp := httputil.NewSingleHostReverseProxy(p.upstream)
	rp.ModifyResponse = p.corruptBody
	// A client that gives up on a request (a cancelled load) is no news.
	rp.ErrorLog = log.New(io.Discard, "", 0)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.Requests.Add(1)
		if st, code, ok := p.fault(r); ok {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(st)
			_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>` + code + `</Code><Message>injected by the test proxy</Message></Error>`))
			return
		}
		rp.ServeHTTP(w, r)
	})
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	p.mu.Lock()
	p.srv = srv
	p.mu.Unlock()
	go func() { _ = srv.Serve(l) }() // owned by the proxy: Down closes it.
}

func (p *Proxy) fault(r *http.Request) (int, string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ru := range p.rules {
		if ru.n > 0 && ru.match(r) {
			ru.n--
			p.Injected.Add(1)
			return ru.status, ru.code, true
		}
	}
	if th := p.throttle; th != nil && isObjectGet(r) && rand.Float64() < th.rate {
		p.Throttled.Add(1)
		return th.status, th.code, true
	}
	return 0, "", false
}

// Throttle answers the share rate (0 to 1) of object GETs with status and
// an S3 error of that code until StopThrottle, as a store under too much
// load does (503 SlowDown); listings and other requests pass. A second
// call replaces the first.
func (p *Proxy) Throttle(rate float64, status int, code string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.throttle = &throttle{rate: rate, status: status, code: code}
}

// StopThrottle lets every object GET pass again.
func (p *Proxy) StopThrottle() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.throttle = nil
}

// isObjectGet: a GET of an object, path style (/bucket/key), not of a
// bucket (a listing, an ACL).
func isObjectGet(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.Contains(strings.Trim(r.URL.Path, "/"), "/")
}

// Fail answers the next n requests that match with status and an S3
// error of that code.
func (p *Proxy) Fail(n, status int, code string, match func(*http.Request) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append(p.rules, &rule{match: match, status: status, code: code, n: n})
}

// IsPut matches PUTs of keys ending in suffix.
func IsPut(suffix string) func(*http.Request) bool {
	return func(r *http.Request) bool { return r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, suffix) }
}

// Down closes the listener and every connection: the endpoint refuses
// connections until Up. The port stays held meanwhile (holdPort).
func (p *Proxy) Down() {
	p.mu.Lock()
	srv := p.srv
	p.srv = nil
	p.mu.Unlock()
	if srv == nil {
		return
	}
	_ = srv.Close()
	h, err := holdPort(p.port, true)
	if err != nil {
		// Still down; only unguarded.
		p.t.Logf("proxy down on %s without holding its port: %v", p.addr, err)
		return
	}
	p.mu.Lock()
	p.held = h
	p.mu.Unlock()
}

// release gives up the port Down held.
func (p *Proxy) release() {
	p.mu.Lock()
	h := p.held
	p.held = nil
	p.mu.Unlock()
	if h != nil {
		h.release()
	}
}

// Up listens again on the same address.
func (p *Proxy) Up() {
	p.t.Helper()
	p.release()
	var l net.Listener
	var err error
	deadline := time.Now().Add(10 * time.Second)
	for {
		l, err = net.Listen("tcp", p.addr)
		// A closed listener's port can linger a moment.
		if err == nil || time.Now().After(deadline) || !strings.Contains(err.Error(), "address already in use") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatalf("proxy back up on %s: %v", p.addr, err)
	}
	p.serve(l)
}

// Clear drops every fault rule: requests pass again.
func (p *Proxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules, p.corrupt = nil, nil
}

// Corrupt flips a bit of the first byte of the bodies of the next n
// successful responses to requests that match, headers untouched: what a
// broken link or middlebox does that TCP's checksum misses.
func (p *Proxy) Corrupt(n int, match func(*http.Request) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.corrupt = append(p.corrupt, &rule{match: match, n: n})
}

func (p *Proxy) corruptBody(resp *http.Response) error {
	if resp.StatusCode >= 300 || resp.Request == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ru := range p.corrupt {
		if ru.n > 0 && ru.match(resp.Request) {
			ru.n--
			p.Injected.Add(1)
			resp.Body = &flipFirst{ReadCloser: resp.Body}
			return nil
		}
	}
	return nil
}

// flipFirst flips the lowest bit of the first byte read.
type flipFirst struct {
	io.ReadCloser
	done bool
}

func (f *flipFirst) Read(b []byte) (int, error) {
	n, err := f.ReadCloser.Read(b)
	if n > 0 && !f.done {
		b[0] ^= 1
		f.done = true
	}
	return n, err
}

// IsGet matches GETs of keys ending in suffix.
func IsGet(suffix string) func(*http.Request) bool {
	return func(r *http.Request) bool { return r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, suffix) }
}
