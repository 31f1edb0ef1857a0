package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/s3load/s3load/internal/testenv"
)

// Every setting only a person can fix stops `s3load run` within seconds,
// with exit 3 and a message naming the cause and the fix; none is retried
// for the load's retry budget, and no secret is printed.
func TestStartupChecksFailFast(t *testing.T) {
	e := newLoadEnv(t)
	e.put("t/a.csv", csvRows(0, 10, ",", true))
	tlsSrv := testenv.VersityTLS(t)
	closed := testenv.RefusedAddr(t)
	missingDir := filepath.Join(t.TempDir(), "no-such-dir")
	tests := []struct {
		name string
		// edit changes the valid config's text
		edit func(doc string) string
		env  map[string]string
		want []string
	}{
		{"wrong secret", nil, map[string]string{"TEST_S3_SECRET": "not-the-secret"}, []string{"source:", "SignatureDoesNotMatch", "secret_access_key"}},
		{"unknown access key", nil, map[string]string{"TEST_S3_KEY": "AKNOSUCHKEY0000"}, []string{"source:", "access key", "access_key_id"}},
		{"no such bucket", func(d string) string { return strings.Replace(d, "bucket: src", "bucket: no-such-bucket", 1) }, nil,
			[]string{"source:", "no-such-bucket", "does not exist"}},
		{"wrong region", func(d string) string { return strings.Replace(d, "region: us-east-1", "region: eu-west-3", 1) }, nil,
			[]string{"source:", "us-east-1", "region"}},
		{"endpoint down", func(d string) string { return strings.Replace(d, e.s3.Endpoint, "http://"+closed, 1) }, nil,
			[]string{"source:", closed, "endpoint"}},
		{"untrusted TLS certificate", func(d string) string { return strings.Replace(d, e.s3.Endpoint, tlsSrv.Endpoint, 1) }, nil,
			[]string{"source:", "certificate", "trust"}},
		{"temporary disk missing", func(d string) string { return d + "\nlimits: { temp_dir: " + missingDir + " }\n" }, nil,
			[]string{"limits.temp_dir", missingDir, "no such file or directory"}},
		{"no credentials", func(d string) string {
			d = strings.Replace(d, "  access_key_id: ${TEST_S3_KEY}\n", "", 1)
			return strings.Replace(d, "  secret_access_key: ${TEST_S3_SECRET}\n", "", 1)
		}, map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_PROFILE": "", "AWS_EC2_METADATA_DISABLED": "true"},
			[]string{"source:", "credentials"}},
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
			path := e.writeConfig("  - { name: t, prefix: t/ }", "startup_wait: 2s")
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
			mustContain(t, "error", stderr, tt.want...)
			if strings.Contains(stdout+stderr, e.s3.SecretAccessKey) {
				t.Error("the secret was printed")
			}
		})
	}
}

// The start-up checks of the source, the target and the temporary disk run
// side by side: a permanent failure of one is reported at once, not after
// another has waited out its startup_wait for a store that is down.
func TestStartupFailureDoesNotWaitForOtherStores(t *testing.T) {
	e := newLoadEnv(t)
	e.put("t/a.csv", csvRows(0, 10, ",", true))
	down := testenv.RefusedAddr(t)
	missingDir := filepath.Join(t.TempDir(), "no-such-dir")
	path := e.writeConfig("  - { name: t, prefix: t/ }", "startup_wait: 10m\nlimits: { temp_dir: "+missingDir+" }")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(raw), e.s3.Endpoint, "http://"+down, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	// Far below startup_wait: had the source's wait been sat out, Main
	// returns at this deadline with the source's error instead.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	started := time.Now()
	code := Main(ctx, []string{"run", "--config", path, "--log-level", "warn"}, &stdout, &stderr)
	t.Logf("exit %d after %s: %s", code, time.Since(started).Round(time.Millisecond), strings.TrimSpace(stderr.String()))
	if code != ExitFailure {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, ExitFailure, stdout.String(), stderr.String())
	}
	mustContain(t, "error", stderr.String(), "limits.temp_dir", missingDir)
}

// A store that is not up yet when s3load starts (a container beside it, a
// restart during a short outage) is waited for, up to startup_wait.
func TestStartupWaitsForTheStore(t *testing.T) {
	e := newLoadEnv(t)
	proxy := e.viaProxy()
	e.put("t/a.csv", csvRows(0, 10, ",", true))
	cfg := e.writeConfig("  - { name: t, prefix: t/ }", "startup_wait: 1m")
	proxy.Down()
	go func() {
		time.Sleep(2 * time.Second)
		proxy.Up()
	}()
	started := time.Now()
	code, stdout, stderr := runCLI(t, "run", "--config", cfg)
	t.Logf("started after waiting %s", time.Since(started).Round(time.Millisecond))
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	mustContain(t, "log", stderr, "waiting for the source store to answer")
	verifyTable(t, e.out, "t", 10, 1)
}

// NATS with a password: the right one loads; a wrong one stops at once,
// named as an authentication failure, and neither password is printed.
func TestNATSWithPassword(t *testing.T) {
	e := newLoadEnv(t)
	e.put("t/a.csv", csvRows(0, 10, ",", true))
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true,
		StoreDir: t.TempDir(), Username: "loader", Password: "nats-s3cret", NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	t.Cleanup(srv.Shutdown)
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats not ready")
	}
	e.natsURL = srv.ClientURL()
	cfg := e.writeConfig("  - { name: t, prefix: t/ }", "")
	raw, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	auth := strings.Replace(string(raw), "  ack_wait: 3s\n", "  ack_wait: 3s\n  user: loader\n  password: ${TEST_NATS_PASSWORD}\n", 1)
	if err := os.WriteFile(cfg, []byte(auth), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TEST_NATS_PASSWORD", "nats-s3cret")
	if code, stdout, stderr := runCLI(t, "run", "--config", cfg); code != ExitOK {
		t.Fatalf("with the password: exit %d\n%s\n%s", code, stdout, stderr)
	}
	verifyTable(t, e.out, "t", 10, 1)

	t.Setenv("TEST_NATS_PASSWORD", "not-the-password")
	started := time.Now()
	code, stdout, stderr := runCLI(t, "run", "--config", cfg, "--log-level", "debug")
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	t.Logf("wrong password: exit %d after %s: %s", code, time.Since(started).Round(time.Millisecond), lines[len(lines)-1])
	if code != ExitFailure {
		t.Fatalf("wrong password: exit %d, want %d\n%s\n%s", code, ExitFailure, stdout, stderr)
	}
	mustContain(t, "error", stderr, "authorization", "nats.password")
	for _, secret := range []string{"nats-s3cret", "not-the-password"} {
		if strings.Contains(stdout+stderr, secret) {
			t.Errorf("a NATS password was printed: %q", secret)
		}
	}
}
