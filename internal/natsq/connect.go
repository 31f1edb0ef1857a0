package natsq

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// DefaultConnectWait is how long Connect waits for a server that is not up
// yet: started beside s3load (docker compose), NATS may take a while.
const DefaultConnectWait = 30 * time.Second

const (
	// The first connection is tried again after firstRetryWait, doubling up
	// to maxRetryWait.
	firstRetryWait = 100 * time.Millisecond
	maxRetryWait   = 2 * time.Second
	// reconnectWait paces reconnection once connected, forever.
	reconnectWait = 250 * time.Millisecond
)

// ConnectOptions say where NATS is and how to authenticate. The names in
// error messages are the config keys under nats: that set each field.
type ConnectOptions struct {
	URL  string // one or more nats:// or tls:// URLs, comma separated
	Name string // client name

	// At most one way to authenticate: a creds file (user JWT and NKey
	// seed), an NKey seed file, a user and password, or a token (user and
	// password, or a token, may also be given in the URL).
	CredsFile, NKeyFile   string
	User, Password, Token string

	// TLS: trust CAFile (else the system's roots); present CertFile and
	// KeyFile as the client certificate.
	CAFile, CertFile, KeyFile string

	// Wait bounds how long a server that is not up yet is waited for;
	// DefaultConnectWait if zero.
	Wait time.Duration

	// Logger receives the connection's events: the wait for a first
	// connection, disconnections, reconnections, asynchronous errors.
	// Nothing is logged if nil.
	Logger *slog.Logger
}

// String hides the password and token, so printing the options is safe.
func (o ConnectOptions) String() string {
	return fmt.Sprintf("nats %s (name %q, creds_file %q, nkey_file %q, user %q, password %s, token %s, ca_file %q, cert_file %q, key_file %q, wait %v)",
		RedactURL(o.URL), o.Name, o.CredsFile, o.NKeyFile, o.User, hidden(o.Password), hidden(o.Token), o.CAFile, o.CertFile, o.KeyFile, o.Wait)
}

// GoString is String, so %#v hides the secrets too.
func (o ConnectOptions) GoString() string { return o.String() }

// LogValue hides the password and token from slog.
func (o ConnectOptions) LogValue() slog.Value { return slog.StringValue(o.String()) }

func hidden(secret string) string {
	if secret == "" {
		return `""`
	}
	return redacted
}

// connector is one Connect call: the options, checked, and what error
// messages need of them.
type connector struct {
	o    ConnectOptions
	red  redactor
	auth auth
	log  *slog.Logger

	mu          sync.Mutex // the async error handler runs on nats.go's goroutine
	lastAsync   string
	lastAsyncAt time.Time
}

// Connect dials NATS and returns the connection and its JetStream context.
//
// A server that refuses the credentials or fails the TLS handshake is a
// permanent error (ErrAuth, ErrTLS) returned at once, saying what to fix. A
// server that is not up yet (connection refused, name not resolving) is
// tried again with backoff for o.Wait, then ErrUnreachable; ctx ends the
// wait. Once connected, the client reconnects forever: a NATS restart
// mid-load is waited out, not fatal. No error or log line shows a password
// or token.
func Connect(ctx context.Context, o ConnectOptions) (*nats.Conn, jetstream.JetStream, error) {
	c := &connector{o: o, red: newRedactor(o), log: o.Logger}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	opts, err := c.natsOptions()
	if err != nil {
		return nil, nil, err
	}
	nc, err := c.dial(ctx, opts)
	if err != nil {
		return nil, nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("opening jetstream: %s", c.red.clean(err.Error()))
	}
	return nc, js, nil
}

// natsOptions checks the URLs, files and credentials and returns the
// nats.go options. Each first attempt runs without RetryOnFailedConnect,
// so nats.go reports why it failed.
func (c *connector) natsOptions() ([]nats.Option, error) {
	if err := c.checkURLs(); err != nil {
		return nil, err
	}
	authOpts, a, err := c.o.authOptions()
	if err != nil {
		return nil, err
	}
	c.auth = a
	tlsCfg, err := c.o.tlsConfig()
	if err != nil {
		return nil, err
	}
	opts := []nats.Option{
		nats.Name(c.o.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(reconnectWait),
		// Every handler is ours: nats.go's default error handler prints
		// to stderr, unredacted.
		nats.ErrorHandler(c.onAsyncError),
		nats.DisconnectErrHandler(c.onDisconnect),
		nats.ReconnectHandler(c.onReconnect),
		nats.ReconnectErrHandler(c.onReconnectError),
		nats.ClosedHandler(c.onClosed),
	}
	opts = append(opts, authOpts...)
	if tlsCfg != nil {
		opts = append(opts, nats.Secure(tlsCfg))
	}
	return opts, nil
}

// checkURLs rejects a URL nats.go could not parse, before nats.go quotes it
// whole in its error.
func (c *connector) checkURLs() error {
	if strings.TrimSpace(strings.ReplaceAll(c.o.URL, ",", "")) == "" {
		return fmt.Errorf("nats.url is empty: set it to the NATS server's nats:// or tls:// URL")
	}
	for _, raw := range strings.Split(c.o.URL, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		s := raw
		if !strings.Contains(s, "://") {
			s = "nats://" + s
		}
		u, err := url.Parse(s)
		if err != nil {
			reason := err
			if inner := errors.Unwrap(err); inner != nil {
				reason = inner // without url.Error's quote of the whole URL
			}
			return fmt.Errorf("nats.url %q does not parse (%s): check nats.url", RedactURL(raw), c.red.clean(reason.Error()))
		}
		switch u.Scheme {
		case "nats", "tls", "ws", "wss":
		default:
			return fmt.Errorf("nats.url %q has scheme %q: use nats:// or tls://", RedactURL(raw), u.Scheme)
		}
	}
	return nil
}

// dial makes the first connection, retrying while the failure may pass.
func (c *connector) dial(ctx context.Context, opts []nats.Option) (*nats.Conn, error) {
	wait := c.o.Wait
	if wait <= 0 {
		wait = DefaultConnectWait
	}
	where := RedactURL(c.o.URL)
	start := time.Now()
	deadline := start.Add(wait)
	backoff := firstRetryWait
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("connecting to nats %s: %w", where, err)
		}
		nc, err := nats.Connect(c.o.URL, opts...)
		if err == nil {
			return nc, nil
		}
		if perm := c.classify(err); perm != nil {
			return nil, perm
		}
		last := c.red.clean(lastErrorText(err))
		left := time.Until(deadline)
		if left <= 0 {
			return nil, c.red.newConnectError(append([]error{ErrUnreachable}, natsSentinel(err)...),
				"nats: no server reachable at %s after %v (%d attempts; last error: %s): check nats.url and that the server is up",
				where, time.Since(start).Round(time.Millisecond), attempt, last)
		}
		if attempt == 1 {
			c.log.Info("waiting for nats", "url", where, "wait", wait, "err", last)
		}
		t := time.NewTimer(min(backoff, left))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("connecting to nats %s: %w (last error: %s)", where, ctx.Err(), last)
		case <-t.C:
		}
		backoff = min(2*backoff, maxRetryWait)
	}
}

// lastErrorText names a refused connection: nats.go folds "connection
// refused" from every server into ErrNoServers.
func lastErrorText(err error) string {
	if errors.Is(err, nats.ErrNoServers) {
		return "connection refused"
	}
	return err.Error()
}

// The connection's event handlers, run by nats.go's callback goroutine,
// which the connection owns.

// asyncErrorEvery spaces repeats of one asynchronous error: a consumer
// without heartbeats during an outage reports the same every few seconds.
const asyncErrorEvery = time.Minute

func (c *connector) onAsyncError(_ *nats.Conn, sub *nats.Subscription, err error) {
	text := c.red.clean(err.Error())
	c.mu.Lock()
	if c.lastAsync == text && time.Since(c.lastAsyncAt) < asyncErrorEvery {
		c.mu.Unlock()
		return
	}
	c.lastAsync, c.lastAsyncAt = text, time.Now()
	c.mu.Unlock()
	attrs := []any{"err", text}
	if sub != nil {
		attrs = append(attrs, "subject", sub.Subject)
	}
	c.log.Warn("nats error", attrs...)
}

func (c *connector) onDisconnect(_ *nats.Conn, err error) {
	if err != nil {
		c.log.Warn("nats disconnected; reconnecting", "url", RedactURL(c.o.URL), "err", c.red.clean(err.Error()))
	}
}

func (c *connector) onReconnect(nc *nats.Conn) {
	c.log.Info("nats reconnected", "url", RedactURL(nc.ConnectedUrl()))
}

func (c *connector) onReconnectError(_ *nats.Conn, err error) {
	c.log.Debug("nats reconnect attempt failed", "err", c.red.clean(err.Error()))
}

func (c *connector) onClosed(nc *nats.Conn) {
	if err := nc.LastError(); err != nil {
		c.log.Warn("nats connection closed", "err", c.red.clean(err.Error()))
	}
}
