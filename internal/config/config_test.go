package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const valid = `
source:
  region: eu-central-1
  bucket: raw-data
  endpoint: http://127.0.0.1:7070
  path_style: true
  access_key_id: ${S3_KEY}
  secret_access_key: ${S3_SECRET}
tables:
  - name: orders
    prefix: orders/
    glob: "**/*.csv.gz"
    format: csv
    csv: { delimiter: "\t", quote: "\"", header: true, null_values: ["", "NULL"] }
  - name: events
    prefix: events/
    schema:
      - { name: id, type: int64, nullable: false }
      - { name: at, type: "timestamp[us, tz=UTC]" }
target: file:///var/lib/s3load/out
nats:
  url: nats://127.0.0.1:4222
workers: 4
max_failed_files: 2
`

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestParseValid(t *testing.T) {
	c, err := Parse([]byte(valid), env(map[string]string{"S3_KEY": "AKIA", "S3_SECRET": "s3cr3t"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Source.AccessKeyID != "AKIA" || c.Source.SecretAccessKey.Reveal() != "s3cr3t" {
		t.Errorf("env not expanded: %+v", c.Source)
	}
	if got := c.Tables[0].CSV.Delimiter; got != "\t" {
		t.Errorf("delimiter = %q", got)
	}
	if c.Tables[1].CSV.Delimiter != "," || !*c.Tables[1].CSV.Header || c.Tables[1].CSV.NullValues[0] != "" {
		t.Errorf("csv defaults not applied: %+v", c.Tables[1].CSV)
	}
	if c.Workers != 4 || c.MaxFailedFiles != 2 || c.Retry.MaxAttempts != 5 || time.Duration(c.NATS.AckWait) != time.Minute {
		t.Errorf("values or defaults wrong: %+v", c)
	}
	if *c.Tables[1].Schema[0].Nullable {
		t.Error("nullable: false lost")
	}
}

func TestSecretNeverPrints(t *testing.T) {
	c, err := Parse([]byte(valid), env(map[string]string{"S3_KEY": "AKIA", "S3_SECRET": "s3cr3t-value"}))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%v", c.Source), fmt.Sprintf("%s", c.Source.SecretAccessKey)} {
		if strings.Contains(s, "s3cr3t-value") {
			t.Fatalf("secret printed: %s", s)
		}
	}
}

func TestParseRejects(t *testing.T) {
	base := func(replace, with string) string { return strings.Replace(valid, replace, with, 1) }
	vars := env(map[string]string{"S3_KEY": "k", "S3_SECRET": "s"})
	tests := []struct {
		name, doc, wantKey string
		lookup             func(string) (string, bool)
	}{
		{"unknown top-level key", valid + "wokers: 3\n", "wokers: unknown key", vars},
		{"unknown nested key", base("delimiter:", "delimeter:"), "tables[0].csv.delimeter: unknown key", vars},
		{"unknown source key", base("path_style: true", "path_style: true\n  secret: x"), "source.secret: unknown key", vars},
		{"bad format", base("format: csv", "format: xml"), "tables[0].format", vars},
		{"bad table name", base("name: orders", "name: or.ders"), "tables[0].name", vars},
		{"duplicate table", base("name: events", "name: orders"), "tables[1].name", vars},
		{"bad glob", base(`"**/*.csv.gz"`, `"[x"`), "tables[0].glob", vars},
		{"long delimiter", base(`delimiter: "\t"`, `delimiter: ";;"`), "tables[0].csv.delimiter", vars},
		{"unset env", valid, "source.access_key_id: environment variable S3_KEY is not set", env(nil)},
		{"bad target scheme", base("file:///var", "ftp:///var"), "target", vars},
		{"relative file target", base("file:///var/lib/s3load/out", "file://out"), "target", vars},
		{"target in source bucket", base("file:///var/lib/s3load/out", "s3://raw-data/out"), "target: must not be in the source bucket", vars},
		{"half credentials", base("secret_access_key: ${S3_SECRET}", ""), "source: access_key_id and secret_access_key", vars},
		{"bad endpoint", base("http://127.0.0.1:7070", "127.0.0.1:7070"), "source.endpoint", vars},
		{"negative max failed", base("max_failed_files: 2", "max_failed_files: -1"), "max_failed_files", vars},
		{"schema without type", base("{ name: id, type: int64, nullable: false }", "{ name: id }"), "tables[1].schema[0].type", vars},
		{"no tables", strings.Split(valid, "tables:")[0] + "target: file:///x\n", "tables: at least one", vars},
		{"two nats auths", base("url: nats://127.0.0.1:4222", "url: nats://127.0.0.1:4222\n  token: t\n  creds_file: /x.creds"), "nats: give at most one", vars},
		{"nats user without password", base("url: nats://127.0.0.1:4222", "url: nats://127.0.0.1:4222\n  user: u"), "nats: user and password", vars},
		{"nats cert without key", base("url: nats://127.0.0.1:4222", "url: nats://127.0.0.1:4222\n  tls: { cert_file: /c.pem }"), "nats.tls", vars},
		{"bad size", valid + "limits: { max_temp_bytes: 10 parsecs }\n", "parsing size", vars},
		{"short retry budget", valid + "retry: { max_duration: 10ms }\n", "retry.max_duration", vars},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc), tt.lookup)
			if err == nil || !strings.Contains(err.Error(), tt.wantKey) {
				t.Fatalf("err = %v, want it to name %q", err, tt.wantKey)
			}
		})
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, rel string
		want         bool
	}{
		{"**/*.csv.gz", "a.csv.gz", true},
		{"**/*.csv.gz", "2024/01/a.csv.gz", true},
		{"**/*.csv.gz", "2024/01/a.csv", false},
		{"*.json", "x/a.json", false},
		{"2024/**", "2024/01/a", true},
		{"2024/*/a.csv", "2024/01/a.csv", true},
		{"2024/*/a.csv", "2024/01/02/a.csv", false},
	}
	for _, tt := range tests {
		g, err := CompileGlob(tt.pattern)
		if err != nil {
			t.Fatal(err)
		}
		if got := g.Match(tt.rel); got != tt.want {
			t.Errorf("%q.Match(%q) = %v, want %v", tt.pattern, tt.rel, got, tt.want)
		}
	}
}

func TestNATSURLNeverEchoed(t *testing.T) {
	doc := strings.Replace(valid, "url: nats://127.0.0.1:4222", "url: \"nats://u:hunter2@%zz\"", 1)
	_, err := Parse([]byte(doc), env(map[string]string{"S3_KEY": "k", "S3_SECRET": "s"}))
	if err == nil || !strings.Contains(err.Error(), "nats.url") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("err = %v: want nats.url named and the password not shown", err)
	}
}

func TestDefaultsAndSizes(t *testing.T) {
	doc := valid + "limits: { max_temp_bytes: 2GiB, max_decompressed_bytes: 1000000 }\nsplit: { range_bytes: 64MiB }\n"
	c, err := Parse([]byte(doc), env(map[string]string{"S3_KEY": "k", "S3_SECRET": "s"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Limits.MaxTempBytes != 2<<30 || c.Limits.MaxDecompressedBytes != 1e6 || c.Split.RangeBytes != 64<<20 {
		t.Errorf("sizes: %+v %+v", c.Limits, c.Split)
	}
	if c.Limits.MaxCompressionRatio != DefaultMaxCompressionRatio || time.Duration(c.Retry.MaxDuration) != DefaultRetryMaxDuration {
		t.Errorf("defaults not applied: %+v %+v", c.Limits, c.Retry)
	}
	if c.Tables[0].AllowEmpty {
		t.Error("allow_empty defaults to true")
	}
}

// TestLoadForWatching: status loads a config whose store credentials are
// unset on this host, as the same job; any other unset variable still fails.
func TestLoadForWatching(t *testing.T) {
	dir := t.TempDir()
	write := func(name, doc string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const base = "source:\n  bucket: b\n  access_key_id: ${WATCH_TEST_KEY}\n  secret_access_key: ${WATCH_TEST_SECRET}\ntables:\n  - name: t\n    prefix: t/\ntarget: file:///tmp/out\n"
	creds := write("creds.yaml", base)
	if _, err := Load(creds); err == nil || !strings.Contains(err.Error(), "WATCH_TEST_KEY") {
		t.Fatalf("Load: %v, want the unset variable named", err)
	}
	c, err := LoadForWatching(creds)
	if err != nil {
		t.Fatalf("LoadForWatching: %v", err)
	}
	t.Setenv("WATCH_TEST_KEY", "k")
	t.Setenv("WATCH_TEST_SECRET", "s")
	full, err := Load(creds)
	if err != nil {
		t.Fatal(err)
	}
	if c.Source.Bucket != full.Source.Bucket || c.Target != full.Target || len(c.Tables) != 1 {
		t.Fatalf("watching config %+v differs from the full one %+v beyond credentials", c, full)
	}
	other := write("other.yaml", strings.Replace(base, "bucket: b", "bucket: ${WATCH_TEST_BUCKET}", 1))
	if _, err := LoadForWatching(other); err == nil || !strings.Contains(err.Error(), "WATCH_TEST_BUCKET") {
		t.Fatalf("LoadForWatching with the bucket unset: %v, want an error naming it", err)
	}
}
