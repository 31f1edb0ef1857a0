package natsq

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// authMethod is how the client proves who it is; error messages name the
// setting to fix from it.
type authMethod int

const (
	authNone authMethod = iota
	authCreds
	authNKey
	authUserPassword
	authToken
	authURLUserPassword // user:password@ in nats.url
	authURLToken        // token@ in nats.url
)

// auth is the chosen method and what may be shown of it.
type auth struct {
	method  authMethod
	user    string // the user name, never a secret
	nkeyPub string // the NKey's public key
}

// authOptions checks that at most one way to authenticate is configured,
// that its files are readable and hold what they should, and returns the
// nats.go options that present it. Creds and NKey files are read again at
// every (re)connect, so a rotated file is picked up; the seed is wiped
// after each use.
func (o ConnectOptions) authOptions() ([]nats.Option, auth, error) {
	var set []string
	if o.CredsFile != "" {
		set = append(set, "nats.creds_file")
	}
	if o.NKeyFile != "" {
		set = append(set, "nats.nkey_file")
	}
	if o.User != "" || o.Password != "" {
		set = append(set, "nats.user/nats.password")
	}
	if o.Token != "" {
		set = append(set, "nats.token")
	}
	urlUser, urlPass, urlAuth := urlCredentials(o.URL)
	if urlAuth {
		set = append(set, "credentials in nats.url")
	}
	if len(set) > 1 {
		return nil, auth{}, fmt.Errorf("%s and %s are set: set only one way to authenticate with nats",
			strings.Join(set[:len(set)-1], ", "), set[len(set)-1])
	}
	switch {
	case o.CredsFile != "":
		if _, _, err := readCreds(o.CredsFile); err != nil {
			return nil, auth{}, err
		}
		userCB := func() (string, error) {
			jwt, kp, err := readCreds(o.CredsFile)
			if err != nil {
				return "", err
			}
			kp.Wipe()
			return jwt, nil
		}
		sigCB := func(nonce []byte) ([]byte, error) {
			_, kp, err := readCreds(o.CredsFile)
			if err != nil {
				return nil, err
			}
			defer kp.Wipe()
			return kp.Sign(nonce)
		}
		return []nats.Option{nats.UserJWT(userCB, sigCB)}, auth{method: authCreds}, nil
	case o.NKeyFile != "":
		kp, err := readNKey(o.NKeyFile)
		if err != nil {
			return nil, auth{}, err
		}
		pub, err := kp.PublicKey()
		kp.Wipe()
		if err != nil {
			return nil, auth{}, fmt.Errorf("nats.nkey_file %q: %w", o.NKeyFile, err)
		}
		sigCB := func(nonce []byte) ([]byte, error) {
			kp, err := readNKey(o.NKeyFile)
			if err != nil {
				return nil, err
			}
			defer kp.Wipe()
			return kp.Sign(nonce)
		}
		return []nats.Option{nats.Nkey(pub, sigCB)}, auth{method: authNKey, nkeyPub: pub}, nil
	case o.User != "" || o.Password != "":
		if o.User == "" {
			return nil, auth{}, fmt.Errorf("nats.password is set without nats.user: set nats.user")
		}
		return []nats.Option{nats.UserInfo(o.User, o.Password)}, auth{method: authUserPassword, user: o.User}, nil
	case o.Token != "":
		return []nats.Option{nats.Token(o.Token)}, auth{method: authToken}, nil
	case urlAuth && urlPass:
		return nil, auth{method: authURLUserPassword, user: urlUser}, nil
	case urlAuth:
		return nil, auth{method: authURLToken}, nil
	}
	return nil, auth{}, nil
}

// urlCredentials reports whether any of the URLs carries credentials, and
// whether they are a user and password (else a token) with the user name.
func urlCredentials(urls string) (user string, withPassword, ok bool) {
	for _, u := range strings.Split(urls, ",") {
		ui := userinfo(strings.TrimSpace(u))
		if ui == "" {
			continue
		}
		name, _, hasPass := strings.Cut(ui, ":")
		if !hasPass {
			return "", false, true
		}
		return name, true, true
	}
	return "", false, false
}

// readCreds reads a creds file: a user JWT and the user's NKey seed.
func readCreds(file string) (string, nkeys.KeyPair, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", nil, fmt.Errorf("reading nats.creds_file: %w", err)
	}
	defer wipe(b)
	token, err := nkeys.ParseDecoratedJWT(b)
	if err != nil {
		return "", nil, fmt.Errorf("nats.creds_file %q: reading its JWT: %w", file, err)
	}
	claims, err := jwt.DecodeUserClaims(token)
	if err != nil {
		return "", nil, fmt.Errorf("nats.creds_file %q holds no user JWT (%v): set it to a .creds file issued for this user", file, err)
	}
	kp, err := nkeys.ParseDecoratedUserNKey(b)
	if err != nil {
		return "", nil, fmt.Errorf("nats.creds_file %q holds no user NKey seed (%v): set it to a .creds file issued for this user", file, err)
	}
	if pub, err := kp.PublicKey(); err != nil || pub != claims.Subject {
		kp.Wipe()
		return "", nil, fmt.Errorf("nats.creds_file %q: its seed is not the key of its JWT's user %s: the file is damaged, issue it again", file, claims.Subject)
	}
	return token, kp, nil
}

// readNKey reads a user NKey seed file.
func readNKey(file string) (nkeys.KeyPair, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading nats.nkey_file: %w", err)
	}
	defer wipe(b)
	kp, err := nkeys.ParseDecoratedUserNKey(b)
	if err != nil {
		return nil, fmt.Errorf("nats.nkey_file %q holds no user NKey seed (%v): set it to a file holding the user's seed (SU...)", file, err)
	}
	return kp, nil
}

// wipe overwrites a file's bytes once they are parsed, so a seed does not
// linger in memory.
func wipe(b []byte) {
	for i := range b {
		b[i] = 'x'
	}
}

// tlsConfig builds the client TLS settings: the CA to trust and the client
// certificate to present. It is nil when none are set, leaving nats.go's
// defaults (TLS only if the URL is tls:// or the server requires it, checked
// against the system's roots).
func (o ConnectOptions) tlsConfig() (*tls.Config, error) {
	if o.CAFile == "" && o.CertFile == "" && o.KeyFile == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading nats.tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("nats.tls.ca_file %q holds no PEM certificate: set it to the certificate of the CA that signed the server's", o.CAFile)
		}
		cfg.RootCAs = pool
	}
	switch {
	case o.CertFile != "" && o.KeyFile == "":
		return nil, fmt.Errorf("nats.tls.cert_file is set without nats.tls.key_file: set both or neither")
	case o.CertFile == "" && o.KeyFile != "":
		return nil, fmt.Errorf("nats.tls.key_file is set without nats.tls.cert_file: set both or neither")
	case o.CertFile != "":
		certPEM, err := os.ReadFile(o.CertFile)
		if err != nil {
			return nil, fmt.Errorf("reading nats.tls.cert_file: %w", err)
		}
		keyPEM, err := os.ReadFile(o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("reading nats.tls.key_file: %w", err)
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		wipe(keyPEM)
		if err != nil {
			return nil, fmt.Errorf("nats.tls.cert_file %q and nats.tls.key_file %q are not a PEM certificate and its private key: %w", o.CertFile, o.KeyFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
