// Command faultproxy is the end-to-end tests' S3 fault injector: an HTTP
// proxy between s3load and an S3 server that, on command, answers object
// GETs with 503 SlowDown, cuts response bodies mid-way with a TCP reset,
// keeps chosen keys throttled for a number of GETs, throttles listings, and
// splits them into small, slow pages. Faults are set and counted through a
// control port, so a test can switch them on and off mid-load and check
// that they really happened.
//
//	faultproxy --listen :7070 --control :7071 --upstream http://s3:7070
//	curl -X PUT localhost:7071/faults -d '{"slowdown_rate":0.3}'
//	curl localhost:7071/stats
//
// Requests pass with their Host header and signature untouched, so the S3
// server verifies the client's own SigV4 signature. Only a listing whose
// page size the proxy lowers is signed again, with the credentials in
// FAULTPROXY_ACCESS_KEY_ID and FAULTPROXY_SECRET_ACCESS_KEY.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Faults say what to do to requests; the zero value passes everything.
type Faults struct {
	// SlowdownRate is the share of object GETs answered 503 SlowDown.
	SlowdownRate float64 `json:"slowdown_rate"`
	// ResetRate is the share of keys whose next GET has its body cut in the
	// middle and its connection reset. A key is cut at most once, so a file
	// loses at most one attempt to resets and the retry budget is never the
	// question: the question is whether a short body is ever taken for a
	// whole file.
	ResetRate float64 `json:"reset_rate"`
	// HotKeys are keys answered 503 SlowDown for their first HotThrottles
	// GETs, whatever SlowdownRate says: enough to outlast the S3 client's
	// own retries several times over, so the worker sees the throttling.
	HotKeys      []string `json:"hot_keys"`
	HotThrottles int      `json:"hot_throttles"`
	// ListSlowdownRate is the share of ListObjectsV2 requests answered 503
	// SlowDown (a throttled listing, which the coordinator meets).
	ListSlowdownRate float64 `json:"list_slowdown_rate"`
	// ListMaxKeys lowers the page size of ListObjectsV2 (0: as asked), and
	// ListDelay holds each listing request back, so publishing a table takes
	// many slow pages; only listings of prefixes under ListDelayPrefix, when
	// it is set, so one table is still listing when the others are
	// recorded and published.
	ListMaxKeys     int      `json:"list_max_keys"`
	ListDelay       Duration `json:"list_delay"`
	ListDelayPrefix string   `json:"list_delay_prefix"`
	// GetDelay holds each object GET back: a load then lasts long enough
	// for workers that start during it to take part, however fast each
	// file loads.
	GetDelay Duration `json:"get_delay"`
}

// Stats count what the proxy saw and did.
type Stats struct {
	Requests     int64 `json:"requests"`
	ObjectGets   int64 `json:"object_gets"`
	Slowdowns    int64 `json:"slowdowns"`
	HotThrottled int64 `json:"hot_throttled"`
	Resets       int64 `json:"resets"`
	Lists        int64 `json:"lists"`
	ListsPaged   int64 `json:"lists_paged"`
	ListSlowdown int64 `json:"list_slowdowns"`
	Errors       int64 `json:"errors"`
}

// Duration is a time.Duration written as "500ms" in JSON.
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	*d = Duration(v)
	return err
}

type proxy struct {
	upstream   *url.URL
	upstreamRT http.RoundTripper
	creds      aws.Credentials
	signer     *v4.Signer

	mu     sync.Mutex
	faults Faults
	stats  Stats
	cut    map[string]bool // keys whose body was already cut
	hot    map[string]int  // GETs throttled so far per hot key
	rng    *rand.Rand
}

func main() {
	listen := flag.String("listen", ":7070", "address for S3 clients")
	control := flag.String("control", ":7071", "address of the control API")
	upstream := flag.String("upstream", "", "URL of the S3 server; required")
	flag.Parse()
	u, err := url.Parse(*upstream)
	if err != nil || u.Host == "" {
		log.Fatalf("faultproxy: --upstream must be a URL such as http://s3:7070 (got %q)", *upstream)
	}
	p := &proxy{
		upstream: u,
		// Bodies pass through as the server sent them (no gzip added).
		upstreamRT: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true},
		creds: aws.Credentials{
			AccessKeyID:     os.Getenv("FAULTPROXY_ACCESS_KEY_ID"),
			SecretAccessKey: os.Getenv("FAULTPROXY_SECRET_ACCESS_KEY"),
		},
		signer: v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }),
		cut:    map[string]bool{},
		hot:    map[string]int{},
		rng:    rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 42)),
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	servers := []*http.Server{
		{Addr: *listen, Handler: p, ReadHeaderTimeout: 10 * time.Second},
		{Addr: *control, Handler: p.controlMux(), ReadHeaderTimeout: 10 * time.Second},
	}
	errs := make(chan error, len(servers))
	for _, s := range servers {
		go func() { errs <- s.ListenAndServe() }() // ended by Shutdown below
	}
	log.Printf("faultproxy: %s -> %s, control on %s", *listen, u, *control)
	select {
	case err := <-errs:
		log.Fatalf("faultproxy: %v", err)
	case <-ctx.Done():
	}
	for _, s := range servers {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = s.Shutdown(sctx)
		cancel()
	}
}

func (p *proxy) controlMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /faults", func(w http.ResponseWriter, _ *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		writeJSON(w, p.faults)
	})
	mux.HandleFunc("PUT /faults", func(w http.ResponseWriter, r *http.Request) {
		var f Faults
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		p.mu.Lock()
		p.faults = f
		p.mu.Unlock()
		log.Printf("faultproxy: faults now %+v", f)
		writeJSON(w, f)
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		writeJSON(w, p.stats)
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// action is what the proxy does to one request.
type action int

const (
	pass action = iota
	slowdown
	cutBody
	pageList
	delayGet
)

// decide picks the action for r and counts it.
func (p *proxy) decide(r *http.Request) (action, Faults) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.faults
	p.stats.Requests++
	if r.Method != http.MethodGet {
		return pass, f
	}
	key := objectKey(r.URL.Path)
	if key == "" {
		if r.URL.Query().Get("list-type") == "2" {
			p.stats.Lists++
			if f.ListSlowdownRate > 0 && p.rng.Float64() < f.ListSlowdownRate {
				p.stats.ListSlowdown++
				return slowdown, f
			}
			if f.ListMaxKeys > 0 || f.ListDelay > 0 {
				p.stats.ListsPaged++
				return pageList, f
			}
		}
		return pass, f
	}
	p.stats.ObjectGets++
	for _, k := range f.HotKeys {
		if k == key && p.hot[key] < f.HotThrottles {
			p.hot[key]++
			p.stats.HotThrottled++
			return slowdown, f
		}
	}
	if f.SlowdownRate > 0 && p.rng.Float64() < f.SlowdownRate {
		p.stats.Slowdowns++
		return slowdown, f
	}
	if f.ResetRate > 0 && !p.cut[key] && p.rng.Float64() < f.ResetRate {
		p.cut[key] = true
		p.stats.Resets++
		return cutBody, f
	}
	if f.GetDelay > 0 {
		return delayGet, f
	}
	return pass, f
}

// objectKey is the key of a path-style object URL (/bucket/key), or "" for
// a bucket-level request.
func objectKey(path string) string {
	path = strings.TrimPrefix(path, "/")
	_, key, ok := strings.Cut(path, "/")
	if !ok {
		return ""
	}
	return key
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	act, f := p.decide(r)
	switch act {
	case slowdown:
		w.Header().Set("Content-Type", "application/xml")
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?>`+
			`<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message>`+
			`<RequestId>faultproxy</RequestId></Error>`)
		return
	case delayGet:
		select {
		case <-time.After(time.Duration(f.GetDelay)):
		case <-r.Context().Done():
			return
		}
	case pageList:
		if strings.HasPrefix(r.URL.Query().Get("prefix"), f.ListDelayPrefix) {
			select {
			case <-time.After(time.Duration(f.ListDelay)):
			case <-r.Context().Done():
				return
			}
		}
		if f.ListMaxKeys > 0 {
			if err := p.lowerMaxKeys(r, f.ListMaxKeys); err != nil {
				p.fail(w, fmt.Errorf("re-signing a listing: %w", err))
				return
			}
		}
	}
	resp, err := p.forward(r)
	if err != nil {
		p.fail(w, err)
		return
	}
	defer resp.Body.Close()
	if act == cutBody {
		p.cut1(w, resp)
		return
	}
	copyHeader(w.Header(), resp.Header)
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

func (p *proxy) fail(w http.ResponseWriter, err error) {
	p.mu.Lock()
	p.stats.Errors++
	p.mu.Unlock()
	log.Printf("faultproxy: %v", err)
	http.Error(w, err.Error(), http.StatusBadGateway)
}

// forward sends r to the upstream server as it came: same Host header,
// same signature.
func (p *proxy) forward(r *http.Request) (*http.Response, error) {
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.URL.Scheme, out.URL.Host = p.upstream.Scheme, p.upstream.Host
	out.Host = r.Host
	for _, h := range hopHeaders {
		out.Header.Del(h)
	}
	if r.ContentLength == 0 {
		out.Body = nil
	}
	return p.upstreamRT.RoundTrip(out)
}

// cut1 sends the status, the headers (with the full Content-Length) and
// half of the body, then resets the connection: the client sees a body
// that ends early, as when a load balancer or the network drops it.
func (p *proxy) cut1(w http.ResponseWriter, resp *http.Response) {
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		p.fail(w, err)
		return
	}
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		p.fail(w, err)
		return
	}
	defer conn.Close()
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\n", resp.StatusCode, http.StatusText(resp.StatusCode))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	for _, h := range hopHeaders {
		resp.Header.Del(h)
	}
	_ = resp.Header.Write(buf)
	buf.WriteString("\r\n")
	_, _ = buf.Write(body[:len(body)/2])
	_ = buf.Flush()
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // close with RST, not FIN
	}
}

// lowerMaxKeys sets max-keys on a ListObjectsV2 request and signs it again
// (the query is part of the signature), in the region the client signed
// for.
func (p *proxy) lowerMaxKeys(r *http.Request, n int) error {
	if p.creds.AccessKeyID == "" {
		return errors.New("FAULTPROXY_ACCESS_KEY_ID and FAULTPROXY_SECRET_ACCESS_KEY are not set")
	}
	q := r.URL.Query()
	if cur, err := strconv.Atoi(q.Get("max-keys")); err == nil && cur > 0 && cur <= n {
		return nil
	}
	q.Set("max-keys", strconv.Itoa(n))
	r.URL.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	region := "us-east-1"
	if _, cred, ok := strings.Cut(r.Header.Get("Authorization"), "Credential="); ok {
		// Credential=AKID/20240101/us-east-1/s3/aws4_request, ...
		if parts := strings.Split(strings.SplitN(cred, ",", 2)[0], "/"); len(parts) >= 3 {
			region = parts[2]
		}
	}
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		payload = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" // empty body
	}
	r.Header.Del("Authorization")
	r.Header.Del("X-Amz-Date")
	return p.signer.SignHTTP(r.Context(), p.creds, r, payload, "s3", region, time.Now().UTC())
}

var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade", "Te", "Trailer"}

func copyHeader(dst, src http.Header) {
	for k, vs := range src {
		for _, v := range vs {
			dst.Add(k, v)
		}
	}
	for _, h := range hopHeaders {
		dst.Del(h)
	}
}
