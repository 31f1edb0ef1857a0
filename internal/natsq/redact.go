package natsq

import (
	"net/url"
	"sort"
	"strings"
)

const redacted = "[redacted]"

// RedactURL hides the credentials of one or more comma-separated NATS URLs:
// "nats://user:password@host" and "nats://token@host" both become
// "nats://[redacted]@host". It works on the text, not on a parse, so a URL
// that does not parse is redacted too.
func RedactURL(u string) string {
	parts := strings.Split(u, ",")
	for i, p := range parts {
		parts[i] = redactOneURL(p)
	}
	return strings.Join(parts, ",")
}

func redactOneURL(u string) string {
	start := 0
	if i := strings.Index(u, "://"); i >= 0 {
		start = i + len("://")
	}
	// The last @ ends the userinfo. A password may hold an unescaped / or
	// @, so no earlier delimiter is trusted: hiding too much is the safe
	// mistake.
	at := strings.LastIndex(u[start:], "@")
	if at < 0 {
		return u
	}
	return u[:start] + redacted + u[start+at:]
}

// redactor scrubs the secrets of one set of connect options from any text
// nats.go hands back: its errors may quote a URL whole, userinfo included.
type redactor struct {
	urls    []string // the URLs as given, each replaced by its redacted form
	secrets []string // passwords and tokens, longest first
}

func newRedactor(o ConnectOptions) redactor {
	var r redactor
	add := func(s string) {
		if s != "" {
			r.secrets = append(r.secrets, s)
		}
	}
	add(o.Password)
	add(o.Token)
	for _, raw := range strings.Split(o.URL, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		r.urls = append(r.urls, raw)
		ui := userinfo(raw)
		if ui == "" {
			continue
		}
		// The raw userinfo (escaped as written) and its decoded parts:
		// the password, or the token a user without a password is.
		// Re-escaped too, as url.URL.String() would print it.
		user, pass, hasPass := strings.Cut(ui, ":")
		if hasPass {
			add(pass)
			if p, err := url.PathUnescape(pass); err == nil {
				add(p)
				add(strings.TrimPrefix(url.UserPassword("", p).String(), ":"))
			}
		} else {
			add(user)
			if t, err := url.PathUnescape(user); err == nil {
				add(t)
				add(url.User(t).String())
			}
		}
	}
	sort.Slice(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
	sort.Slice(r.urls, func(i, j int) bool { return len(r.urls[i]) > len(r.urls[j]) })
	return r
}

// userinfo is the text between "://" and the last "@" of one URL, "" if none.
func userinfo(u string) string {
	start := 0
	if i := strings.Index(u, "://"); i >= 0 {
		start = i + len("://")
	}
	at := strings.LastIndex(u[start:], "@")
	if at < 0 {
		return ""
	}
	return u[start : start+at]
}

// clean returns s with every URL redacted and every secret replaced.
func (r redactor) clean(s string) string {
	for _, u := range r.urls {
		s = strings.ReplaceAll(s, u, redactOneURL(u))
	}
	for _, sec := range r.secrets {
		s = strings.ReplaceAll(s, sec, redacted)
	}
	return s
}
