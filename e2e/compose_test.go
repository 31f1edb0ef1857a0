//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// compose is the Compose command this machine has: the docker compose
// plugin, or docker-compose (v1.29) where the plugin is missing.
func compose(t *testing.T) []string {
	t.Helper()
	if exec.Command("docker", "compose", "version").Run() == nil {
		return []string{"docker", "compose"}
	}
	if p, err := exec.LookPath("docker-compose"); err == nil {
		return []string{p}
	}
	t.Fatal("neither `docker compose` nor docker-compose is installed")
	return nil
}

// The README's promise: `docker compose up --scale worker=4` seeds the demo
// bucket, runs one coordinator and four workers, and the coordinator exits
// 0 with every table committed as an Iceberg table in the lake bucket of
// compose's S3 server. The test reads them back through S3 with lakecheck,
// at a host port an override file publishes (compose.yaml publishes none).
func TestComposeDemo(t *testing.T) {
	dc := compose(t)
	project := suite.prefix + "-compose"
	override := filepath.Join(t.TempDir(), "compose.e2e.yaml")
	if err := os.WriteFile(override, []byte("services:\n  s3:\n    ports: [\"7070\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The demo account's keys, fresh: compose passes them to the S3 server,
	// the seed jobs and the config's ${S3LOAD_DEMO_KEY} references alike.
	key, secret := "E2E"+randomHex(8), randomHex(20)
	env := append(os.Environ(),
		"S3LOAD_IMAGE="+suite.images["S3LOAD_IMAGE"],
		"NATS_IMAGE="+suite.images["NATS_IMAGE"],
		"VERSITYGW_IMAGE="+suite.images["VERSITYGW_IMAGE"],
		"S3LOAD_DEMO_KEY="+key,
		"S3LOAD_DEMO_SECRET="+secret,
		// The suite's data set shape (other values, same keys and ids), so
		// the same checks apply.
		fmt.Sprintf("S3LOAD_DEMO_FILES=%d", filesPerTable),
		fmt.Sprintf("S3LOAD_DEMO_ROWS=%d", rowsPerFile),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	t.Cleanup(cancel) // after the clean-up below, which needs it
	run := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, dc[0], append(append(dc[1:], "-p", project, "-f", "compose.yaml", "-f", override), args...)...)
		cmd.Dir, cmd.Env = suite.root, env
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	t.Cleanup(func() {
		logs, _ := run("logs", "--no-color")
		dir := filepath.Join(suite.logDir, t.Name())
		if err := os.MkdirAll(dir, 0o755); err == nil {
			_ = os.WriteFile(filepath.Join(dir, "compose.log"), []byte(logs), 0o644)
		}
		if t.Failed() {
			t.Logf("compose logs (last 4 KiB):\n%s", tail(logs, 4096))
		}
		if out, err := run("down", "-v", "--timeout", "10"); err != nil {
			t.Logf("compose down: %v\n%s", err, out)
		}
	})

	started := time.Now()
	if out, err := run("up", "-d", "--scale", "worker=4"); err != nil {
		t.Fatalf("compose up: %v\n%s", err, out)
	}
	var status, coordinator string
	waitFor(t, 4*time.Minute, "the compose coordinator to exit", func() (bool, error) {
		id, err := run("ps", "-a", "-q", "coordinator")
		if err != nil {
			return false, fmt.Errorf("%v: %s", err, id)
		}
		coordinator = strings.TrimSpace(id)
		if coordinator == "" {
			return false, nil // not created yet: it waits for the seed jobs
		}
		b, err := exec.CommandContext(ctx, "docker", "inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", coordinator).Output()
		status = strings.TrimSpace(string(b))
		return strings.HasPrefix(status, "exited"), err
	})
	wall := time.Since(started)
	if status != "exited 0" {
		t.Fatalf("the compose coordinator ended %q", status)
	}
	ps, err := run("ps", "-q", "worker")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(ps)); n != 4 {
		t.Errorf("compose ran %d workers, want 4", n)
	}

	// The tables, through compose's S3 server at its published port, on
	// the host the suite reaches its own containers at.
	port, err := run("port", "s3", "7070")
	if err != nil {
		t.Fatalf("compose port s3 7070: %v\n%s", err, port)
	}
	port = strings.TrimSpace(port)
	host, err := suite.s3.Host(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st, err := s3Client(ctx, "http://"+host+":"+port[strings.LastIndex(port, ":")+1:], key, secret)
	if err != nil {
		t.Fatal(err)
	}
	logs, err := exec.CommandContext(ctx, "docker", "logs", coordinator).CombinedOutput()
	if err != nil {
		t.Fatalf("docker logs of the coordinator: %v", err)
	}
	// deploy/demo-load.yaml: target s3://lake/warehouse, namespace demo.
	problems, notes := checkLake(ctx, s3Warehouse(st, lakeBucket, "warehouse"), reportedSnapshots(string(logs)))
	for _, n := range notes {
		t.Log("note: " + n)
	}
	for _, p := range problems {
		t.Error(p)
	}
	report(t, "%6.1fs  compose.yaml: seed, coordinator, 4 workers; up to committed in s3://lake/warehouse (%s)", wall.Seconds(), strings.Join(dc, " "))
}
