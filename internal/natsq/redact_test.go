package natsq

import (
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	cases := []struct{ in, want string }{
		{"nats://u:p@h:4222", "nats://[redacted]@h:4222"},
		{"nats://tok@h", "nats://[redacted]@h"},
		{"tls://h:4222", "tls://h:4222"},
		{"u:p@h:4222", "[redacted]@h:4222"},
		{"nats://u:p/a@b@h:4222", "nats://[redacted]@h:4222"},
		{"nats://u:p@a:1, tls://tok@b:2,nats://c:3", "nats://[redacted]@a:1, tls://[redacted]@b:2,nats://c:3"},
		{"", ""},
	}
	for _, tc := range cases {
		if got := RedactURL(tc.in); got != tc.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// nats.go may quote a URL whole in an error (url.Parse does): the redactor
// scrubs it, and the password however it is written.
func TestRedactorCleansQuotedSecrets(t *testing.T) {
	raw := "nats://u:pw%40s3cret-1@a:4222,nats://tok-s3cret-3@b:4222"
	r := newRedactor(ConnectOptions{URL: raw, Password: testPassword, Token: wrongToken})
	text := strings.Join([]string{
		`parse "nats://u:pw%40s3cret-1@a:4222": invalid port`, // quoted whole
		"password pw@s3cret-1",                                // decoded
		"token tok-s3cret-3 and " + wrongToken + " and " + testPassword,
		raw,
	}, "\n")
	got := r.clean(text)
	for _, s := range []string{"pw%40s3cret-1", "pw@s3cret-1", "tok-s3cret-3", wrongToken, testPassword} {
		if strings.Contains(got, s) {
			t.Errorf("%q survived:\n%s", s, got)
		}
	}
	if !strings.Contains(got, "nats://[redacted]@a:4222") {
		t.Errorf("the URL is not shown redacted:\n%s", got)
	}
}
