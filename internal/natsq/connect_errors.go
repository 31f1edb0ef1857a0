package natsq

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go"
)

// The kinds of connection failure callers branch on, with errors.Is.
var (
	// ErrAuth: the server refused the credentials (or wants some). Trying
	// again does not help; the configuration must change.
	ErrAuth = errors.New("nats authentication failed")
	// ErrTLS: the TLS handshake failed: an untrusted or mismatched server
	// certificate, a missing or refused client certificate, TLS wanted on
	// one side only. Permanent, like ErrAuth.
	ErrTLS = errors.New("nats TLS failed")
	// ErrUnreachable: no server answered within the connect wait.
	ErrUnreachable = errors.New("nats server unreachable")
)

// connectError is a connection failure with a message already scrubbed of
// secrets. It unwraps to its kind and, where there is one, to the nats.go
// sentinel, never to nats.go's own error, whose text may quote a URL with
// its userinfo.
type connectError struct {
	msg   string
	kinds []error
}

func (e *connectError) Error() string   { return e.msg }
func (e *connectError) Unwrap() []error { return e.kinds }

// newConnectError builds the error; the message passes through the
// redactor, whatever it quotes.
func (r redactor) newConnectError(kinds []error, format string, args ...any) error {
	return &connectError{msg: r.clean(fmt.Sprintf(format, args...)), kinds: kinds}
}

// natsSentinels are the nats.go errors worth keeping in the chain: fixed
// texts that quote nothing.
var natsSentinels = []error{
	nats.ErrAuthorization, nats.ErrAuthExpired, nats.ErrAuthRevoked, nats.ErrAccountAuthExpired,
	nats.ErrSecureConnWanted, nats.ErrSecureConnRequired, nats.ErrTLS, nats.ErrNoServers,
}

func natsSentinel(err error) []error {
	for _, s := range natsSentinels {
		if errors.Is(err, s) {
			return []error{s}
		}
	}
	return nil
}

// classify turns a failed first connection into ErrAuth or ErrTLS with the
// reason and what to fix, or returns nil when the failure may pass (the
// server is not up yet, its name does not resolve yet, it dropped us).
func (c *connector) classify(err error) error {
	text := err.Error()
	lower := strings.ToLower(text)
	fail := func(kind error, format string, args ...any) error {
		return c.red.newConnectError(append([]error{kind}, natsSentinel(err)...), format, args...)
	}
	// Authentication, matched on the server's words too: nats.go's
	// errors.Is does not recognise "User Authentication Expired".
	switch {
	case errors.Is(err, nats.ErrAuthorization) || strings.Contains(lower, "authorization violation"):
		return fail(ErrAuth, "nats: authorization violation%s", c.authHint())
	case errors.Is(err, nats.ErrAuthExpired) || errors.Is(err, nats.ErrAccountAuthExpired) ||
		strings.Contains(lower, "authentication expired"):
		return fail(ErrAuth, "nats: credentials expired (%s): %s", text, c.renewHint())
	case errors.Is(err, nats.ErrAuthRevoked) || strings.Contains(lower, "authentication revoked"):
		return fail(ErrAuth, "nats: credentials revoked (%s): %s", text, c.renewHint())
	}
	// TLS.
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.Is(err, nats.ErrSecureConnWanted):
		return fail(ErrTLS, "nats: the server does not offer TLS, but %s asks for it: enable TLS on the server, or use a nats:// URL without nats.tls settings", c.tlsSource())
	case errors.Is(err, nats.ErrSecureConnRequired):
		return fail(ErrTLS, "nats: the server requires TLS: use a tls:// URL and set nats.tls.ca_file")
	case errors.As(err, &unknownCA):
		if c.o.CAFile != "" {
			return fail(ErrTLS, "nats: server certificate not trusted (%s): set nats.tls.ca_file to the CA that signed it, not %q", tlsReason(err), c.o.CAFile)
		}
		return fail(ErrTLS, "nats: server certificate not trusted (%s): set nats.tls.ca_file", tlsReason(err))
	case errors.As(err, &hostname):
		return fail(ErrTLS, "nats: server certificate is not for this host (%s): connect by a name the certificate holds, or reissue it", tlsReason(err))
	case errors.As(err, &invalid):
		return fail(ErrTLS, "nats: server certificate not valid (%s): renew the server's certificate, or check the clock", tlsReason(err))
	case strings.Contains(lower, "certificate required"):
		return fail(ErrTLS, "nats: the server requires a client certificate (%s): set nats.tls.cert_file and nats.tls.key_file", tlsReason(err))
	case strings.Contains(lower, "remote error: tls: bad certificate") ||
		strings.Contains(lower, "remote error: tls: unknown certificate authority") ||
		strings.Contains(lower, "remote error: tls: certificate unknown") ||
		strings.Contains(lower, "remote error: tls: expired certificate"):
		return fail(ErrTLS, "nats: the server refused the client certificate (%s): check that nats.tls.cert_file %q is signed by a CA the server trusts and is current", tlsReason(err), c.o.CertFile)
	case strings.Contains(lower, "after tls handshake"):
		// TLS 1.3 completes the client's handshake before the server checks
		// the client's certificate; a server that rejects it just hangs up.
		if c.o.CertFile == "" {
			return fail(ErrTLS, "nats: the server closed the connection right after the TLS handshake (%s), as it does when it requires a client certificate: set nats.tls.cert_file and nats.tls.key_file", tlsReason(err))
		}
		return fail(ErrTLS, "nats: the server closed the connection right after the TLS handshake (%s), as it does when it refuses the client certificate: check that nats.tls.cert_file %q is signed by a CA the server trusts and is current", tlsReason(err), c.o.CertFile)
	case errors.Is(err, nats.ErrTLS):
		if c.o.CertFile == "" {
			return fail(ErrTLS, "nats: TLS handshake failed (%s): if the server requires client certificates, set nats.tls.cert_file and nats.tls.key_file", tlsReason(err))
		}
		return fail(ErrTLS, "nats: TLS handshake failed (%s): check nats.tls settings against the server's", tlsReason(err))
	}
	return nil
}

// tlsReason drops nats.go's "nats: tls error: " prefix.
func tlsReason(err error) string {
	return strings.TrimPrefix(err.Error(), nats.ErrTLS.Error()+": ")
}

// authHint says whose credentials were refused and which setting to fix.
func (c *connector) authHint() string {
	switch c.auth.method {
	case authCreds:
		return fmt.Sprintf(" for the user in nats.creds_file %q: check that the file is current and its account is known to the server", c.o.CredsFile)
	case authNKey:
		return fmt.Sprintf(" for NKey %s: check nats.nkey_file %q holds the seed of a user the server knows", c.auth.nkeyPub, c.o.NKeyFile)
	case authUserPassword:
		return fmt.Sprintf(" for user %q: check nats.password", c.auth.user)
	case authToken:
		return ": check nats.token"
	case authURLUserPassword:
		return fmt.Sprintf(" for user %q: check the password in nats.url", c.auth.user)
	case authURLToken:
		return ": check the token in nats.url"
	}
	return ": the server requires authentication: set nats.creds_file, nats.nkey_file, nats.user and nats.password, or nats.token"
}

func (c *connector) renewHint() string {
	if c.auth.method == authCreds {
		return fmt.Sprintf("issue new credentials and set nats.creds_file (now %q)", c.o.CredsFile)
	}
	return "issue new credentials"
}

// tlsSource names the setting that asked for TLS.
func (c *connector) tlsSource() string {
	if c.o.CAFile != "" || c.o.CertFile != "" {
		return "nats.tls"
	}
	return "the tls:// URL in nats.url"
}
