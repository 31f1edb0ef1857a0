package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s3load/s3load/internal/testenv"
)

// runCheckCLI runs `s3load check` in-process under a 10 s deadline, and
// fails the test if the deadline passed: every check, even of an endpoint
// that is down, ends well within it.
func runCheckCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	code = Main(ctx, append([]string{"check"}, args...), &out, &errb)
	if ctx.Err() != nil {
		t.Fatalf("s3load check ran past its 10 s deadline\nstdout:\n%s\nstderr:\n%s", out.String(), errb.String())
	}
	return code, out.String(), errb.String()
}

// editConfig rewrites the config file at path with edit.
func editConfig(t *testing.T, path string, edit func(string) string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(edit(string(raw))), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A good config passes every check, one ✓ line each, in order: the
// source's credentials, bucket and region, ACL, each table's prefix, one
// read; the target; the temporary disk; the catalog of an Iceberg config;
// NATS.
func TestCheckAllPass(t *testing.T) {
	e := newLoadEnv(t)
	e.put("t/a.csv", csvRows(0, 10, ",", true))
	e.put("t/b.csv", csvRows(10, 10, ",", true))
	e.put("u/c.csv", csvRows(0, 5, ",", true))
	tables := "  - { name: t, prefix: t/ }\n  - { name: u, prefix: u/ }\n  - { name: v, prefix: v/, allow_empty: true }"
	db := filepath.Join(t.TempDir(), "catalog.db")
	for _, tt := range []struct {
		name, extra string
		want        []string // checks, in order
	}{
		{"parquet", "", []string{"credentials", "bucket and region", "GetBucketAcl", "ListBucket", "ListBucket", "ListBucket",
			"GetObject", "writable", "writable", "reachable with JetStream"}},
		{"iceberg with the filesystem catalog", "table_format: iceberg",
			[]string{"credentials", "bucket and region", "GetBucketAcl", "ListBucket", "ListBucket", "ListBucket",
				"GetObject", "writable", "writable", "reachable", "reachable with JetStream"}},
		{"iceberg with a SQL catalog", "table_format: iceberg\ncatalog: { type: sql, uri: \"sqlite://" + db + "\" }",
			[]string{"credentials", "bucket and region", "GetBucketAcl", "ListBucket", "ListBucket", "ListBucket",
				"GetObject", "writable", "writable", "reachable", "reachable with JetStream"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := e.writeConfig(tables, tt.extra)
			code, stdout, stderr := runCheckCLI(t, "--config", cfg)
			t.Logf("s3load check:\n%s", stdout)
			if code != ExitOK {
				t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			lines := strings.Split(strings.TrimSpace(stdout), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("%d lines, want %d", len(lines), len(tt.want))
			}
			for i, l := range lines {
				if !strings.HasPrefix(l, "✓ ") || !strings.Contains(l, ": "+tt.want[i]+": ") {
					t.Errorf("line %d: %q, want a ✓ of %s", i+1, l, tt.want[i])
				}
			}
			mustContain(t, "check output", stdout,
				"access_key_id and secret_access_key of the config",
				`region "`+e.s3.Region+`"`,
				"s3://src/t/: 2 objects, first t/a.csv",
				"s3://src/u/: 1 object, first u/c.csv",
				"no object (allow_empty: true)",
				"read the first byte of s3://src/t/a.csv",
				"a probe object was written and removed",
				e.natsURL)
			if strings.Contains(stdout+stderr, e.s3.SecretAccessKey) {
				t.Error("the secret was printed")
			}

			code, stdout, stderr = runCheckCLI(t, "--config", cfg, "--json")
			if code != ExitOK {
				t.Fatalf("--json: exit %d\n%s\n%s", code, stdout, stderr)
			}
			var got []checkResult
			if err := json.Unmarshal([]byte(stdout), &got); err != nil {
				t.Fatalf("--json: %v\n%s", err, stdout)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("--json: %d checks, want %d", len(got), len(tt.want))
			}
			for i, r := range got {
				if !r.OK || r.Check != tt.want[i] || r.Target == "" || r.Detail == "" || r.Fix != "" {
					t.Errorf("--json check %d: %+v, want an ok %s", i, r, tt.want[i])
				}
			}
		})
	}
	// Nothing of the checks is left in the target: the probe is removed.
	entries, err := os.ReadDir(e.out)
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range entries {
		if strings.HasPrefix(en.Name(), ".s3load-check-") {
			t.Errorf("probe %s left in the target", en.Name())
		}
	}
}

// Each setting that is wrong fails its check with exit 3, a ✗ line that
// names the cause and a fix line that says what to change; the checks
// after a failed gate of the same store are not run, the other stores'
// still are, and no secret is printed.
func TestCheckFailures(t *testing.T) {
	e := newLoadEnv(t)
	e.put("t/a.csv", csvRows(0, 10, ",", true))
	closed := testenv.RefusedAddr(t)
	silent := silentListener(t)
	missingDir := filepath.Join(t.TempDir(), "no-such-dir")
	tests := []struct {
		name string
		edit func(doc string) string
		env  map[string]string
		// setup runs after the config is written, before the check.
		setup func(t *testing.T, cfg string)
		// check and where name the ✗ line; want must be in it, fix in
		// the fix line under it.
		check, where string
		want         []string
		fix          string
	}{
		{name: "wrong secret", env: map[string]string{"TEST_S3_SECRET": "not-the-secret"},
			check: "bucket and region", where: "source s3://src",
			want: []string{"SignatureDoesNotMatch", "signature"}, fix: "check secret_access_key"},
		{name: "unknown access key", env: map[string]string{"TEST_S3_KEY": "AKNOSUCHKEY0000"},
			check: "bucket and region", where: "source s3://src",
			want: []string{"AKNOSUCHKEY0000", "not known"}, fix: "check access_key_id"},
		{name: "no such bucket", edit: func(d string) string { return strings.Replace(d, "bucket: src", "bucket: no-such-bucket", 1) },
			check: "bucket and region", where: "source s3://no-such-bucket",
			want: []string{"no-such-bucket", "does not exist"}, fix: "check the bucket name"},
		{name: "wrong region", edit: func(d string) string { return strings.Replace(d, "region: us-east-1", "region: eu-west-3", 1) },
			check: "bucket and region", where: "source s3://src",
			want: []string{`"us-east-1"`, `"eu-west-3"`}, fix: `set region to "us-east-1"`},
		{name: "endpoint down", edit: func(d string) string { return strings.Replace(d, e.s3.Endpoint, "http://"+closed, 1) },
			check: "bucket and region", where: "source s3://src",
			want: []string{"http://" + closed, "connection refused"}, fix: "check endpoint"},
		{name: "endpoint never answers", edit: func(d string) string { return strings.Replace(d, e.s3.Endpoint, "http://"+silent, 1) },
			check: "bucket and region", where: "source s3://src",
			want: []string{"no answer from http://" + silent + " within"}, fix: "check the endpoint"},
		{name: "prefix matches nothing", edit: func(d string) string { return strings.Replace(d, "prefix: t/", "prefix: tt/", 1) },
			check: "ListBucket", where: "table t",
			want: []string{`"tt/"`, "matched no object"}, fix: `did you mean "t/"?`},
		{name: "target not writable", edit: nil,
			setup: func(t *testing.T, cfg string) {
				e.s3.CreateBucket(t, "out")
				proxy := e.viaProxy()
				// Every probe write in the target is denied.
				proxy.Fail(100, http.StatusForbidden, "AccessDenied", func(r *http.Request) bool {
					return r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/out/") && strings.Contains(r.URL.Path, ".s3load-check-")
				})
				editConfig(t, cfg, func(d string) string {
					return strings.Replace(d, "target: file://"+e.out, fmt.Sprintf(`target: s3://out/lake
target_s3:
  endpoint: %s
  path_style: true
  access_key_id: ${TEST_S3_KEY}
  secret_access_key: ${TEST_S3_SECRET}`, proxy.Endpoint), 1)
				})
			},
			check: "writable", where: "target s3://out/lake",
			want: []string{"s3://out/lake", "denies the write", "AccessDenied"}, fix: "grant the target's key s3:PutObject"},
		{name: "temporary disk missing", edit: func(d string) string { return d + "\nlimits: { temp_dir: " + missingDir + " }\n" },
			check: "writable", where: "temporary disk " + missingDir,
			want: []string{missingDir, "no such file or directory"}, fix: "check limits.temp_dir"},
		{name: "nats down", setup: func(t *testing.T, _ string) { e.natsDown() },
			check: "reachable with JetStream", where: "nats " + e.natsURL,
			want: []string{"no server reachable at " + e.natsURL}, fix: "check nats.url and that the server is up"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			cfg := e.writeConfig("  - { name: t, prefix: t/ }", "")
			if tt.edit != nil {
				editConfig(t, cfg, tt.edit)
			}
			if tt.setup != nil {
				tt.setup(t, cfg)
			}
			code, stdout, stderr := runCheckCLI(t, "--config", cfg)
			t.Logf("%s: exit %d:\n%s", tt.name, code, stdout)
			if code != ExitFailure {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, ExitFailure, stdout, stderr)
			}
			lines := strings.Split(strings.TrimSpace(stdout), "\n")
			failed := -1
			for i, l := range lines {
				if strings.HasPrefix(l, "✗ ") {
					if failed >= 0 {
						t.Errorf("more than one ✗ line:\n%s", stdout)
					}
					failed = i
				}
			}
			if failed < 0 || failed+1 >= len(lines) {
				t.Fatalf("no ✗ line with a fix under it:\n%s", stdout)
			}
			if prefix := "✗ " + tt.where + ": " + tt.check + ": "; !strings.HasPrefix(lines[failed], prefix) {
				t.Errorf("✗ line %q, want it to begin %q", lines[failed], prefix)
			}
			mustContain(t, "✗ line", lines[failed], tt.want...)
			mustContain(t, "fix line", lines[failed+1], "    fix: ", tt.fix)
			// The same failure, as JSON.
			code, stdout, _ = runCheckCLI(t, "--config", cfg, "--json")
			var got []checkResult
			if err := json.Unmarshal([]byte(stdout), &got); err != nil || code != ExitFailure {
				t.Fatalf("--json: exit %d, %v\n%s", code, err, stdout)
			}
			var bad []checkResult
			for _, r := range got {
				if !r.OK {
					bad = append(bad, r)
				}
			}
			if len(bad) != 1 || bad[0].Check != tt.check || bad[0].Target != tt.where || !strings.Contains(bad[0].Fix, tt.fix) {
				t.Errorf("--json: failed checks %+v, want one %s of %s with fix %q", bad, tt.check, tt.where, tt.fix)
			}
			for _, secret := range []string{e.s3.SecretAccessKey, "not-the-secret"} {
				if strings.Contains(stdout+stderr, secret) {
					t.Errorf("a secret was printed: %q", secret)
				}
			}
		})
	}
}

// silentListener accepts connections and never answers on them, as a
// host behind a firewall that drops packets would make a client wait.
func silentListener(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	done := make(chan struct{})
	go func() { // owned here: closing l ends it; the cleanup waits.
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	return l.Addr().String()
}

// A config that does not load is a usage error: exit 2, no check run.
func TestCheckBadConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "load.yaml")
	if err := os.WriteFile(path, []byte("source: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCheckCLI(t, "--config", path)
	if code != ExitUsage || stdout != "" {
		t.Fatalf("exit %d, want %d; stdout:\n%s\nstderr:\n%s", code, ExitUsage, stdout, stderr)
	}
	if code, _, _ := runCheckCLI(t); code != ExitUsage {
		t.Errorf("without --config: exit %d, want %d", code, ExitUsage)
	}
}
