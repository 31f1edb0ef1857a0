// Package versity runs a versitygw S3 server as a child process on a local
// directory: the S3 store of `make demo`, and of every test that needs one.
package versity

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"
)

// Server is a running versitygw process with one root account.
type Server struct {
	Endpoint        string
	Region          string
	AccessKeyID     string
	SecretAccessKey string
	// Dir is the posix backend's root: each subdirectory is a bucket.
	Dir string
	// AccessLogPath is the server's access log, one line per request.
	AccessLogPath string
	// Sidecar is the directory of the objects' metadata where Dir's
	// filesystem takes no extended attributes; empty, they are in those.
	Sidecar string

	cmd    *exec.Cmd
	exited chan struct{}
	output *syncBuffer
}

// Options say which binary to run and where it keeps its data.
type Options struct {
	Binary string // path of the versitygw binary
	Dir    string // root for the server's data; created if missing
	// CertFile and KeyFile, both PEM, make the server speak HTTPS with this
	// certificate; empty means plain HTTP.
	CertFile, KeyFile string
}

const (
	readyTimeout = 30 * time.Second
	pollInterval = 20 * time.Millisecond
	// startAttempts covers the window between picking a free port and the
	// server binding it, in which another process may take the port.
	startAttempts = 3
)

// Start launches versitygw with fresh random credentials and waits until it
// answers. Stop ends the process; it also dies with its parent on Linux.
func Start(ctx context.Context, o Options) (*Server, error) {
	if fi, err := os.Stat(o.Binary); err != nil || !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 {
		return nil, fmt.Errorf("versitygw not found at %q: run `make tools`", o.Binary)
	}
	var lastErr error
	for range startAttempts {
		s, err := start(ctx, o)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("starting versitygw: %w", lastErr)
}

func start(ctx context.Context, o Options) (*Server, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	run := filepath.Join(o.Dir, fmt.Sprintf("run-%d", port))
	scheme := "http"
	probe := &http.Client{Timeout: time.Second}
	var tlsArgs []string
	if o.CertFile != "" || o.KeyFile != "" {
		scheme = "https"
		tlsArgs = []string{"--cert", o.CertFile, "--key", o.KeyFile}
		if probe, err = TLSClient(o.CertFile); err != nil {
			return nil, err
		}
		probe.Timeout = time.Second
	}
	s := &Server{
		Endpoint:        fmt.Sprintf("%s://127.0.0.1:%d", scheme, port),
		Region:          "us-east-1",
		AccessKeyID:     "AK" + randomHex(9),
		SecretAccessKey: randomHex(20),
		Dir:             filepath.Join(run, "buckets"),
		AccessLogPath:   filepath.Join(run, "access.log"),
		exited:          make(chan struct{}),
		output:          &syncBuffer{},
	}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", s.Dir, err)
	}
	// Each object's metadata (ETag, checksums, content type) goes where
	// versitygw keeps it by default, in extended attributes, if the
	// filesystem takes them; else (an older tmpfs) in a sidecar directory.
	// The sidecar is several file reads per object listed or read, a cost
	// no S3 store charges: listing 10,000 keys took ~1.6x as long with it.
	if !takesXattrs(s.Dir) {
		s.Sidecar = filepath.Join(run, "meta")
		if err := os.MkdirAll(s.Sidecar, 0o755); err != nil {
			return nil, fmt.Errorf("creating %s: %w", s.Sidecar, err)
		}
	}
	args := append([]string{
		"--port", fmt.Sprintf("127.0.0.1:%d", port),
		"--access", s.AccessKeyID, "--secret", s.SecretAccessKey,
		"--region", s.Region,
		"--access-log", s.AccessLogPath,
		"--quiet",
		// S3 keeps a client's connections open between requests; without
		// this versitygw closes each one, and every GET of a small file
		// pays a TCP (and TLS) handshake on both sides that no production
		// store charges, which would skew every figure measured against it.
		"--keep-alive",
	}, tlsArgs...)
	args = append(args, "posix")
	if s.Sidecar != "" {
		args = append(args, "--sidecar", s.Sidecar)
	}
	args = append(args, s.Dir)
	s.cmd = exec.Command(o.Binary, args...)
	// Credentials go on the command line and the environment is minimal, so
	// the server never picks up a developer's own AWS or VGW variables.
	s.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + run}
	s.cmd.Stdout, s.cmd.Stderr = s.output, s.output
	dieWithParent(s.cmd)
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("running %s: %w", o.Binary, err)
	}
	go func() { // ends when the process does; Stop waits for it
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	defer probe.CloseIdleConnections()
	if err := s.waitReady(ctx, probe); err != nil {
		s.Stop()
		return nil, fmt.Errorf("%w; server output:\n%s", err, s.output.String())
	}
	return s, nil
}

// waitReady polls until the server answers HTTP at all (even 403 means it
// is serving), it exits, or the deadline passes.
func (s *Server) waitReady(ctx context.Context, client *http.Client) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.Endpoint, nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-s.exited:
			return errors.New("versitygw exited during start")
		case <-ctx.Done():
			return fmt.Errorf("versitygw not ready: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// TLSClient is an HTTP client that trusts the certificates of certFile
// and no others (a self-signed certificate is its own authority).
func TLSClient(certFile string) (*http.Client, error) {
	pem, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("reading the server certificate: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", certFile)
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}, nil
}

// CPU is the CPU time (user and system) the server has used so far:
// benchmarks read it before and after a run to count what serving cost.
func (s *Server) CPU() (time.Duration, error) {
	return cpuTime(s.cmd.Process.Pid)
}

// Stop kills the server and waits for it to exit.
func (s *Server) Stop() {
	_ = s.cmd.Process.Kill()
	<-s.exited
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// FreePort is a TCP port on 127.0.0.1 nothing listens on right now.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// syncBuffer collects the server's output, written from its pipes'
// goroutines and read by whoever reports an error.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
