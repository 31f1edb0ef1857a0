package testenv

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// Throttle answers the share of object GETs it is given with the status
// and code it is given, and nothing else; StopThrottle ends it.
func TestProxyThrottle(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "upstream")
	}))
	defer upstream.Close()
	p := NewProxy(t, upstream.URL)
	get := func(method, path string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, p.Endpoint+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}

	p.Throttle(1, http.StatusServiceUnavailable, "SlowDown")
	tests := []struct {
		method, path string
		throttled    bool
	}{
		{http.MethodGet, "/bucket/dir/key.csv", true},
		{http.MethodGet, "/bucket/key.csv", true},
		{http.MethodGet, "/bucket?list-type=2", false},
		{http.MethodGet, "/bucket/", false},
		{http.MethodHead, "/bucket/key.csv", false},
		{http.MethodPut, "/bucket/key.csv", false},
	}
	for _, tt := range tests {
		status, body := get(tt.method, tt.path)
		if got := status == http.StatusServiceUnavailable && strings.Contains(body, "<Code>SlowDown</Code>"); got != tt.throttled {
			t.Errorf("%s %s: status %d %q, throttled %v, want %v", tt.method, tt.path, status, body, got, tt.throttled)
		}
	}
	if n := p.Throttled.Load(); n != 2 {
		t.Errorf("Throttled counts %d, want 2", n)
	}

	p.Throttle(0.5, http.StatusServiceUnavailable, "SlowDown")
	throttled := 0
	const gets = 400
	for range gets {
		if status, _ := get(http.MethodGet, "/bucket/key.csv"); status == http.StatusServiceUnavailable {
			throttled++
		}
	}
	// 400 draws at 0.5: outside 140-260 once in about 10^9 runs.
	if throttled < 140 || throttled > 260 {
		t.Errorf("at rate 0.5, %d of %d GETs throttled", throttled, gets)
	}

	p.StopThrottle()
	if status, body := get(http.MethodGet, "/bucket/key.csv"); status != http.StatusOK || body != "upstream" {
		t.Errorf("after StopThrottle: %d %q, want the upstream's answer", status, body)
	}
}

// Down refuses connections while it holds the port, after a request left
// a connection open; Up serves on the same address again.
func TestProxyDownUp(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "upstream")
	}))
	defer upstream.Close()
	p := NewProxy(t, upstream.URL)
	client := &http.Client{Transport: &http.Transport{}} // keeps its connection
	get := func() (string, error) {
		resp, err := client.Get(p.Endpoint + "/bucket/key.csv")
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return string(body), err
	}
	if body, err := get(); err != nil || body != "upstream" {
		t.Fatalf("before Down: %q, %v", body, err)
	}
	p.Down()
	p.mu.Lock()
	held := p.held != nil
	p.mu.Unlock()
	if !held && runtime.GOOS != "windows" {
		t.Error("Down did not hold the proxy's port")
	}
	if _, err := net.Dial("tcp", strings.TrimPrefix(p.Endpoint, "http://")); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dialing the proxy while down: %v, want connection refused", err)
	}
	p.Up()
	if body, err := get(); err != nil || body != "upstream" {
		t.Fatalf("after Up: %q, %v", body, err)
	}
}
