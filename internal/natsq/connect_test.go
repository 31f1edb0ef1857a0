package natsq

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/s3load/s3load/internal/testenv"
)

// Secrets the tests use; none may appear in an error or a log line.
const (
	testPassword  = "pw-s3cret-1"
	wrongPassword = "pw-wrong-2"
	testToken     = "tok-s3cret-3"
	wrongToken    = "tok-wrong-4"
)

var testSecrets = []string{testPassword, wrongPassword, testToken, wrongToken}

// newTestServer starts a JetStream server on 127.0.0.1 (port 0: any free
// port) configured by configure; the caller shuts it down.
func newTestServer(port int, storeDir string, configure func(*server.Options)) (*server.Server, error) {
	if port == 0 {
		port = server.RANDOM_PORT
	}
	opts := &server.Options{
		ServerName: "test",
		Host:       "127.0.0.1",
		Port:       port,
		JetStream:  true,
		StoreDir:   storeDir,
		NoSigs:     true,
		NoLog:      true,
	}
	if configure != nil {
		configure(opts)
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, err
	}
	go srv.Start() // stopped by the caller's Shutdown
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, errors.New("test nats server not ready after 10s")
	}
	return srv, nil
}

// startTestServer starts a server for the test and returns its client URL
// (nats://127.0.0.1:port).
func startTestServer(t *testing.T, configure func(*server.Options)) string {
	t.Helper()
	srv, err := newTestServer(0, t.TempDir(), configure)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	return srv.ClientURL()
}

func withUser(o *server.Options) {
	o.Users = []*server.User{{Username: "u", Password: testPassword}}
}

func withToken(o *server.Options) { o.Authorization = testToken }

// withTLS serves TLS with the certificate ca issued; verify requires
// clients to present a certificate ca issued.
func withTLS(t *testing.T, ca *testCA, verify bool) func(*server.Options) {
	certFile, keyFile := ca.issue(t, "server", false)
	cfg, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: certFile, KeyFile: keyFile, CaFile: ca.CAFile, Verify: verify})
	if err != nil {
		t.Fatal(err)
	}
	return func(o *server.Options) {
		o.TLS, o.TLSVerify, o.TLSConfig = true, verify, cfg
	}
}

// userSeedFile writes a fresh user NKey seed file, returning it and the
// public key.
func userSeedFile(t *testing.T) (file, pub string) {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := kp.Seed()
	pub, _ = kp.PublicKey()
	file = filepath.Join(t.TempDir(), "user.nk")
	if err := os.WriteFile(file, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	return file, pub
}

// testOperator is operator mode: an operator trusting accounts through a
// memory resolver, one account with JetStream.
type testOperator struct {
	operator, account nkeys.KeyPair
	resolver          *server.MemAccResolver
	sysPub            string
}

func newTestOperator(t *testing.T) *testOperator {
	t.Helper()
	op := &testOperator{resolver: &server.MemAccResolver{}}
	var err error
	if op.operator, err = nkeys.CreateOperator(); err != nil {
		t.Fatal(err)
	}
	store := func(kp nkeys.KeyPair, js bool) string {
		pub, _ := kp.PublicKey()
		ac := jwt.NewAccountClaims(pub)
		if js {
			ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: -1, Consumer: -1}
		}
		token, err := ac.Encode(op.operator)
		if err != nil {
			t.Fatal(err)
		}
		if err := op.resolver.Store(pub, token); err != nil {
			t.Fatal(err)
		}
		return pub
	}
	sys, _ := nkeys.CreateAccount()
	op.sysPub = store(sys, false)
	op.account, _ = nkeys.CreateAccount()
	store(op.account, true)
	return op
}

func (op *testOperator) configure(o *server.Options) {
	pub, _ := op.operator.PublicKey()
	o.TrustedKeys = []string{pub}
	o.AccountResolver = op.resolver
	o.SystemAccount = op.sysPub
}

// credsFile writes a creds file for a new user signed by account.
func credsFile(t *testing.T, account nkeys.KeyPair) string {
	t.Helper()
	user, _ := nkeys.CreateUser()
	pub, _ := user.PublicKey()
	token, err := jwt.NewUserClaims(pub).Encode(account)
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := user.Seed()
	creds, err := jwt.FormatUserConfig(token, seed)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "user.creds")
	if err := os.WriteFile(file, creds, 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// withCredentials puts userinfo into a nats://host:port URL.
func withCredentials(u, userinfo string) string {
	return strings.Replace(u, "://", "://"+userinfo+"@", 1)
}

// logBuffer collects log lines from nats.go's callback goroutine.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// noSecrets fails the test if text shows any of the test's secrets.
func noSecrets(t *testing.T, what, text string) {
	t.Helper()
	for _, s := range testSecrets {
		if strings.Contains(text, s) {
			t.Errorf("%s shows the secret %q: %s", what, s, text)
		}
	}
}

// useJetStream proves the connection works: a KV bucket, written and read.
func useJetStream(t *testing.T, js jetstream.JetStream) {
	t.Helper()
	ctx := context.Background()
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "check"})
	if err != nil {
		t.Fatalf("creating a KV bucket: %v", err)
	}
	if _, err := kv.Put(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(ctx, "k")
	if err != nil || string(e.Value()) != "v" {
		t.Fatalf("read back %v, %v", e, err)
	}
}

func TestConnectAuthAndTLS(t *testing.T) {
	cases := []struct {
		name string
		// setup starts the server and returns the client's options.
		setup func(t *testing.T) ConnectOptions
		want  []error  // nil: connects; else the error is one of these
		hint  []string // the error says this
	}{
		{name: "user and password", setup: func(t *testing.T) ConnectOptions {
			return ConnectOptions{URL: startTestServer(t, withUser), User: "u", Password: testPassword}
		}},
		{name: "wrong password", setup: func(t *testing.T) ConnectOptions {
			return ConnectOptions{URL: startTestServer(t, withUser), User: "u", Password: wrongPassword}
		}, want: []error{ErrAuth}, hint: []string{`nats: authorization violation for user "u": check nats.password`}},
		{name: "no credentials", setup: func(t *testing.T) ConnectOptions {
			return ConnectOptions{URL: startTestServer(t, withUser)}
		}, want: []error{ErrAuth}, hint: []string{"requires authentication: set nats.creds_file"}},
		{name: "user and password in the URL", setup: func(t *testing.T) ConnectOptions {
			return ConnectOptions{URL: withCredentials(startTestServer(t, withUser), "u:"+testPassword)}
		}},
		{name: "wrong password in the URL", setup: func(t *testing.T) ConnectOptions {
			return ConnectOptions{URL: withCredentials(startTestServer(t, withUser), "u:"+wrongPassword)}
		}, want: []error{ErrAuth}, hint: []string{`for user "u": check the password in nats.url`}},
		{name: "token", setup: func(t *testing.T) ConnectOptions {
			return ConnectOptions{URL: startTestServer(t, withToken), Token: testToken}
		}},
		{name: "wrong token", setup: func(t *testing.T) ConnectOptions {
			return ConnectOptions{URL: startTestServer(t, withToken), Token: wrongToken}
		}, want: []error{ErrAuth}, hint: []string{"check nats.token"}},
		{name: "token in the URL", setup: func(t *testing.T) ConnectOptions {
			return ConnectOptions{URL: withCredentials(startTestServer(t, withToken), testToken)}
		}},
		{name: "wrong token in the URL", setup: func(t *testing.T) ConnectOptions {
			return ConnectOptions{URL: withCredentials(startTestServer(t, withToken), wrongToken)}
		}, want: []error{ErrAuth}, hint: []string{"check the token in nats.url"}},
		{name: "NKey", setup: func(t *testing.T) ConnectOptions {
			file, pub := userSeedFile(t)
			url := startTestServer(t, func(o *server.Options) { o.Nkeys = []*server.NkeyUser{{Nkey: pub}} })
			return ConnectOptions{URL: url, NKeyFile: file}
		}},
		{name: "unknown NKey", setup: func(t *testing.T) ConnectOptions {
			_, known := userSeedFile(t)
			file, _ := userSeedFile(t)
			url := startTestServer(t, func(o *server.Options) { o.Nkeys = []*server.NkeyUser{{Nkey: known}} })
			return ConnectOptions{URL: url, NKeyFile: file}
		}, want: []error{ErrAuth}, hint: []string{"check nats.nkey_file"}},
		{name: "creds file in operator mode", setup: func(t *testing.T) ConnectOptions {
			op := newTestOperator(t)
			return ConnectOptions{URL: startTestServer(t, op.configure), CredsFile: credsFile(t, op.account)}
		}},
		{name: "creds of an unknown account", setup: func(t *testing.T) ConnectOptions {
			op := newTestOperator(t)
			stranger, _ := nkeys.CreateAccount()
			return ConnectOptions{URL: startTestServer(t, op.configure), CredsFile: credsFile(t, stranger)}
		}, want: []error{ErrAuth}, hint: []string{"nats.creds_file", "its account is known to the server"}},
		{name: "TLS with the CA", setup: func(t *testing.T) ConnectOptions {
			ca := newTestCA(t, "ca")
			return ConnectOptions{URL: startTestServer(t, withTLS(t, ca, false)), CAFile: ca.CAFile}
		}},
		{name: "TLS with the CA, tls:// URL and a password", setup: func(t *testing.T) ConnectOptions {
			ca := newTestCA(t, "ca")
			url := startTestServer(t, func(o *server.Options) { withTLS(t, ca, false)(o); withUser(o) })
			return ConnectOptions{URL: strings.Replace(url, "nats://", "tls://", 1), CAFile: ca.CAFile, User: "u", Password: testPassword}
		}},
		{name: "TLS, wrong password", setup: func(t *testing.T) ConnectOptions {
			ca := newTestCA(t, "ca")
			url := startTestServer(t, func(o *server.Options) { withTLS(t, ca, false)(o); withUser(o) })
			return ConnectOptions{URL: url, CAFile: ca.CAFile, User: "u", Password: wrongPassword}
		}, want: []error{ErrAuth}, hint: []string{"check nats.password"}},
		{name: "TLS, server certificate from another CA", setup: func(t *testing.T) ConnectOptions {
			ca, other := newTestCA(t, "ca"), newTestCA(t, "other")
			return ConnectOptions{URL: startTestServer(t, withTLS(t, ca, false)), CAFile: other.CAFile}
		}, want: []error{ErrTLS}, hint: []string{"server certificate not trusted (", "set nats.tls.ca_file"}},
		{name: "TLS required, not configured", setup: func(t *testing.T) ConnectOptions {
			ca := newTestCA(t, "ca")
			return ConnectOptions{URL: startTestServer(t, withTLS(t, ca, false))}
		}, want: []error{ErrTLS}, hint: []string{"server certificate not trusted (", "set nats.tls.ca_file"}},
		{name: "TLS configured, server without TLS", setup: func(t *testing.T) ConnectOptions {
			ca := newTestCA(t, "ca")
			return ConnectOptions{URL: startTestServer(t, nil), CAFile: ca.CAFile}
		}, want: []error{ErrTLS}, hint: []string{"does not offer TLS"}},
		{name: "mutual TLS with a client certificate", setup: func(t *testing.T) ConnectOptions {
			ca := newTestCA(t, "ca")
			cert, key := ca.issue(t, "client", true)
			return ConnectOptions{URL: startTestServer(t, withTLS(t, ca, true)), CAFile: ca.CAFile, CertFile: cert, KeyFile: key}
		}},
		{name: "mutual TLS without a client certificate", setup: func(t *testing.T) ConnectOptions {
			ca := newTestCA(t, "ca")
			return ConnectOptions{URL: startTestServer(t, withTLS(t, ca, true)), CAFile: ca.CAFile}
		}, want: []error{ErrTLS, ErrAuth}, hint: []string{"nats.tls.cert_file"}},
		{name: "mutual TLS with a certificate from another CA", setup: func(t *testing.T) ConnectOptions {
			ca, other := newTestCA(t, "ca"), newTestCA(t, "other")
			cert, key := other.issue(t, "client", true)
			return ConnectOptions{URL: startTestServer(t, withTLS(t, ca, true)), CAFile: ca.CAFile, CertFile: cert, KeyFile: key}
		}, want: []error{ErrTLS, ErrAuth}, hint: []string{"nats.tls.cert_file"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			logs := &logBuffer{}
			o := tc.setup(t)
			o.Name, o.Logger = "test", logs.logger()
			// Long enough that a permanent error mistaken for a passing
			// one ends in ErrUnreachable, not in the wanted kind.
			o.Wait = 3 * time.Second
			start := time.Now()
			nc, js, err := Connect(context.Background(), o)
			t.Logf("Connect returned after %v: %v", time.Since(start), err)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				defer nc.Close()
				useJetStream(t, js)
				return
			}
			if err == nil {
				nc.Close()
				t.Fatalf("connected; want %v", tc.want)
			}
			if !isAny(err, tc.want) {
				t.Errorf("error %q is not %v", err, tc.want)
			}
			for _, h := range tc.hint {
				if !strings.Contains(err.Error(), h) {
					t.Errorf("error %q does not say %q", err, h)
				}
			}
			noSecrets(t, "the error", err.Error())
			noSecrets(t, "the log", logs.String())
		})
	}
}

func isAny(err error, kinds []error) bool {
	for _, k := range kinds {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}

func TestConnectServerDown(t *testing.T) {
	port := testenv.FreePort(t)
	cases := []struct {
		name string
		url  string
	}{
		{"plain URL", fmt.Sprintf("nats://127.0.0.1:%d", port)},
		{"password in the URL", fmt.Sprintf("nats://u:%s@127.0.0.1:%d", testPassword, port)},
		{"token in the URL, two servers", fmt.Sprintf("nats://%s@127.0.0.1:%d, nats://u:%s@127.0.0.1:%d", testToken, port, testPassword, port)},
		{"name that does not resolve", "nats://u:" + testPassword + "@nats.invalid:4222"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			logs := &logBuffer{}
			start := time.Now()
			_, _, err := Connect(context.Background(), ConnectOptions{URL: tc.url, Wait: 700 * time.Millisecond, Logger: logs.logger()})
			t.Logf("Connect returned after %v: %v", time.Since(start), err)
			if !errors.Is(err, ErrUnreachable) {
				t.Fatalf("error %v, want ErrUnreachable", err)
			}
			if !strings.Contains(err.Error(), RedactURL(tc.url)) {
				t.Errorf("error %q does not name %s", err, RedactURL(tc.url))
			}
			noSecrets(t, "the error", err.Error())
			noSecrets(t, "the log", logs.String())
		})
	}
}

func TestConnectCancelEndsTheWait(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := Connect(ctx, ConnectOptions{URL: fmt.Sprintf("nats://u:%s@%s", testPassword, testenv.RefusedAddr(t)), Wait: time.Minute})
	t.Logf("Connect returned after %v: %v", time.Since(start), err)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want the context's", err)
	}
	noSecrets(t, "the error", err.Error())
}

// A server started beside s3load may come up after it: Connect waits.
func TestConnectWaitsForALateServer(t *testing.T) {
	port := testenv.FreePort(t)
	type started struct {
		srv *server.Server
		err error
	}
	up := make(chan started, 1)
	dir := t.TempDir()
	timer := time.AfterFunc(time.Second, func() {
		srv, err := newTestServer(port, dir, withUser)
		up <- started{srv, err}
	})
	t.Cleanup(func() {
		if timer.Stop() {
			return // never started
		}
		if s := <-up; s.srv != nil {
			s.srv.Shutdown()
			s.srv.WaitForShutdown()
		}
	})
	start := time.Now()
	nc, js, err := Connect(context.Background(), ConnectOptions{
		URL:  fmt.Sprintf("nats://127.0.0.1:%d", port),
		User: "u", Password: testPassword,
		Wait: 20 * time.Second,
	})
	t.Logf("Connect returned after %v: %v", time.Since(start), err)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	useJetStream(t, js)
}

// After the first connection a NATS restart is waited out, and the log
// tells it without the password.
func TestConnectReconnectsAfterRestart(t *testing.T) {
	port, dir := testenv.FreePort(t), t.TempDir()
	srv, err := newTestServer(port, dir, withUser)
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	nc, js, err := Connect(context.Background(), ConnectOptions{
		URL:    fmt.Sprintf("nats://u:%s@127.0.0.1:%d", testPassword, port),
		Logger: logs.logger(),
	})
	if err != nil {
		srv.Shutdown()
		t.Fatal(err)
	}
	defer nc.Close()
	useJetStream(t, js)
	status := nc.StatusChanged(nats.RECONNECTING, nats.CONNECTED, nats.CLOSED)
	defer nc.RemoveStatusListener(status)

	srv.Shutdown()
	srv.WaitForShutdown()
	awaitStatus(t, status, nats.RECONNECTING)
	down := time.Now()
	srv, err = newTestServer(port, dir, withUser)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Shutdown(); srv.WaitForShutdown() }()
	awaitStatus(t, status, nats.CONNECTED)
	t.Logf("reconnected %v after the server came back", time.Since(down))

	kv, err := js.KeyValue(context.Background(), "check")
	if err != nil {
		t.Fatal(err)
	}
	if e, err := kv.Get(context.Background(), "k"); err != nil || string(e.Value()) != "v" {
		t.Fatalf("after the restart: %v, %v", e, err)
	}
	// The handlers run on nats.go's callback goroutine, maybe after the
	// status changed.
	for _, want := range []string{"nats disconnected", "nats reconnected"} {
		awaitLog(t, logs, want)
	}
	noSecrets(t, "the log", logs.String())
}

func awaitLog(t *testing.T, logs *logBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("the log does not say %q after 10s:\n%s", want, logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func awaitStatus(t *testing.T, ch chan nats.Status, want nats.Status) {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case s := <-ch:
			if s == want {
				return
			}
			if s == nats.CLOSED {
				t.Fatalf("connection closed waiting for %v", want)
			}
		case <-deadline:
			t.Fatalf("no %v after 15s", want)
		}
	}
}

// Files that are missing or hold the wrong thing, and settings that
// contradict each other, fail before any dial, naming the file and key.
func TestConnectConfigErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.pem")
	garbage := filepath.Join(dir, "garbage.txt")
	if err := os.WriteFile(garbage, []byte("not a key or certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ca := newTestCA(t, "ca")
	cert, key := ca.issue(t, "client", true)
	nkeyFile, _ := userSeedFile(t)
	cases := []struct {
		name     string
		o        ConnectOptions
		notExist bool
		says     []string
	}{
		{"missing creds file", ConnectOptions{CredsFile: missing}, true, []string{"nats.creds_file", missing}},
		{"creds file without a JWT", ConnectOptions{CredsFile: garbage}, false, []string{"nats.creds_file", garbage}},
		{"NKey seed file as creds", ConnectOptions{CredsFile: nkeyFile}, false, []string{"nats.creds_file", nkeyFile}},
		{"missing NKey file", ConnectOptions{NKeyFile: missing}, true, []string{"nats.nkey_file", missing}},
		{"NKey file without a seed", ConnectOptions{NKeyFile: garbage}, false, []string{"nats.nkey_file", garbage}},
		{"missing CA file", ConnectOptions{CAFile: missing}, true, []string{"nats.tls.ca_file", missing}},
		{"CA file without a certificate", ConnectOptions{CAFile: garbage}, false, []string{"nats.tls.ca_file", garbage}},
		{"missing client certificate", ConnectOptions{CertFile: missing, KeyFile: key}, true, []string{"nats.tls.cert_file", missing}},
		{"missing client key", ConnectOptions{CertFile: cert, KeyFile: missing}, true, []string{"nats.tls.key_file", missing}},
		{"client key that is not the certificate's", ConnectOptions{CertFile: cert, KeyFile: garbage}, false, []string{"nats.tls.key_file", garbage}},
		{"certificate without key", ConnectOptions{CertFile: cert}, false, []string{"nats.tls.key_file"}},
		{"two ways to authenticate", ConnectOptions{NKeyFile: nkeyFile, Token: testToken}, false, []string{"nats.nkey_file and nats.token are set", "only one"}},
		{"URL credentials and a token", ConnectOptions{URL: "nats://u:" + testPassword + "@127.0.0.1:4222", Token: testToken}, false, []string{"nats.url", "nats.token", "only one"}},
		{"password without user", ConnectOptions{Password: testPassword}, false, []string{"set nats.user"}},
		{"URL that does not parse", ConnectOptions{URL: "nats://u:" + testPassword + "@127.0.0.1:port"}, false, []string{"nats.url", "[redacted]"}},
		{"no URL", ConnectOptions{URL: " , "}, false, []string{"nats.url is empty"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.o.URL == "" {
				tc.o.URL = fmt.Sprintf("nats://127.0.0.1:%d", testenv.FreePort(t))
			}
			tc.o.Wait = 5 * time.Second
			start := time.Now()
			_, _, err := Connect(context.Background(), tc.o)
			t.Logf("Connect returned after %v: %v", time.Since(start), err)
			if err == nil || errors.Is(err, ErrUnreachable) {
				t.Fatalf("error %v, want a configuration error before any dial", err)
			}
			if tc.notExist && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("error %v is not fs.ErrNotExist", err)
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			noSecrets(t, "the error", err.Error())
		})
	}
}

func TestConnectOptionsHideSecrets(t *testing.T) {
	o := ConnectOptions{URL: "nats://t:" + wrongPassword + "@h:4222", User: "u", Password: testPassword, Token: testToken}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("connecting", "nats", o)
	for _, text := range []string{fmt.Sprint(o), fmt.Sprintf("%+v", o), fmt.Sprintf("%#v", o), logged.String()} {
		noSecrets(t, "printed options", text)
		if !strings.Contains(text, "password [redacted]") {
			t.Errorf("printed options do not say a password is set: %s", text)
		}
	}
}
