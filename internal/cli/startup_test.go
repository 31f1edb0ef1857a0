package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/s3load/s3load/internal/testenv"
)

// Every setting only a person can fix stops `s3load run` within seconds,
// with exit 3 and a message naming the cause and the fix; none is retried
// for the load's retry budget, and no secret is printed.
func TestStartupChecksFailFast(t *testing.T) {
	e := newLoadEnv(t)
	e.put("t/a.csv", csvRows(0, 10, ",", true))
	tlsSrv := testenv.VersityTLS(t)
	closed := freeAddr(t) // nothing listens here
	tests := []struct {
		name string
		// edit changes the valid config's text
		edit func(doc string) string
		env  map[string]string
		want []string
	}{
		{"wrong secret", nil, map[string]string{"TEST_S3_SECRET": "not-the-secret"}, []string{"SignatureDoesNotMatch", "secret_access_key"}},
		{"unknown access key", nil, map[string]string{"TEST_S3_KEY": "AKNOSUCHKEY0000"}, []string{"access key", "access_key_id"}},
		{"no such bucket", func(d string) string { return strings.Replace(d, "bucket: src", "bucket: no-such-bucket", 1) }, nil,
			[]string{"no-such-bucket", "does not exist"}},
		{"wrong region", func(d string) string { return strings.Replace(d, "region: us-east-1", "region: eu-west-3", 1) }, nil,
			[]string{"us-east-1", "region"}},
		{"endpoint down", func(d string) string { return strings.Replace(d, e.s3.Endpoint, "http://"+closed, 1) }, nil,
			[]string{closed, "endpoint"}},
		{"untrusted TLS certificate", func(d string) string { return strings.Replace(d, e.s3.Endpoint, tlsSrv.Endpoint, 1) }, nil,
			[]string{"certificate", "trust"}},
		{"no credentials", func(d string) string {
			d = strings.Replace(d, "  access_key_id: ${TEST_S3_KEY}\n", "", 1)
			return strings.Replace(d, "  secret_access_key: ${TEST_S3_SECRET}\n", "", 1)
		}, map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_PROFILE": "", "AWS_EC2_METADATA_DISABLED": "true"},
			[]string{"credentials"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			if tt.name == "no credentials" {
				empty := filepath.Join(t.TempDir(), "empty")
				if err := os.WriteFile(empty, nil, 0o600); err != nil {
					t.Fatal(err)
				}
				t.Setenv("AWS_CONFIG_FILE", empty)
				t.Setenv("AWS_SHARED_CREDENTIALS_FILE", empty)
			}
			path := e.writeConfig("  - { name: t, prefix: t/ }", "")
			if tt.edit != nil {
				raw, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(tt.edit(string(raw))), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			started := time.Now()
			code, stdout, stderr := runCLI(t, "run", "--config", path, "--log-level", "warn")
			t.Logf("%s: exit %d after %s: %s", tt.name, code, time.Since(started).Round(time.Millisecond), strings.TrimSpace(stderr))
			if code != ExitFailure {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, ExitFailure, stdout, stderr)
			}
			mustContain(t, "error", stderr, append([]string{"source:"}, tt.want...)...)
			if strings.Contains(stdout+stderr, e.s3.SecretAccessKey) {
				t.Error("the secret was printed")
			}
		})
	}
}
