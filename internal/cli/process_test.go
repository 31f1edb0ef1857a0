package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/s3load/s3load/internal/testenv"
)

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
	binaryDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binaryDir != "" {
		os.RemoveAll(binaryDir)
	}
	os.Exit(code)
}

// s3loadBinary builds cmd/s3load once per test run.
func s3loadBinary(t testing.TB) string {
	t.Helper()
	binaryOnce.Do(func() {
		binaryDir, binaryErr = os.MkdirTemp("", "s3load-bin-")
		if binaryErr != nil {
			return
		}
		binaryPath = filepath.Join(binaryDir, "s3load")
		out, err := exec.Command("go", "build", "-o", binaryPath, "github.com/s3load/s3load/cmd/s3load").CombinedOutput()
		if err != nil {
			binaryErr = fmt.Errorf("building s3load: %v\n%s", err, out)
		}
	})
	if binaryErr != nil {
		t.Fatal(binaryErr)
	}
	return binaryPath
}

// The scaled-out shape, as real processes: one coordinator and two workers
// on a shared NATS server. Workers report healthy, the coordinator exits 0
// with every table committed, and SIGTERM stops the workers cleanly.
func TestSeparateProcesses(t *testing.T) {
	bin := s3loadBinary(t)
	e := newLoadEnv(t)
	ds, cfg := e.seedDemo(3, 6, 500)

	type proc struct {
		cmd    *exec.Cmd
		out    bytes.Buffer
		health string
		done   chan error
	}
	var workers []*proc
	for i := range 2 {
		p := &proc{health: testenv.FreeAddr(t), done: make(chan error, 1)}
		p.cmd = exec.Command(bin, "worker", "--config", cfg, "--nats", e.natsURL, "--concurrency", "2",
			"--id", fmt.Sprintf("w%d", i), "--health-addr", p.health)
		p.cmd.Env = os.Environ()
		p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { p.done <- p.cmd.Wait() }()
		t.Cleanup(func() { _ = p.cmd.Process.Kill() })
		workers = append(workers, p)
	}
	for _, p := range workers {
		waitFor(t, "worker health", 30*time.Second, func() bool {
			return exec.Command(bin, "health", "--url", "http://"+p.health+"/healthz").Run() == nil
		})
	}

	coord := exec.Command(bin, "coordinator", "--config", cfg, "--nats", e.natsURL)
	coord.Env = os.Environ()
	var out, errb bytes.Buffer
	coord.Stdout, coord.Stderr = &out, &errb
	if err := coord.Run(); err != nil {
		t.Fatalf("coordinator: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errb.String())
	}
	mustContain(t, "coordinator report", out.String(), "every table committed")
	for table, rows := range ds.Rows {
		verifyTable(t, e.out, table, rows, 6)
	}

	for _, p := range workers {
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
	}
	for i, p := range workers {
		select {
		case err := <-p.done:
			if err != nil {
				t.Errorf("worker %d exited with %v (%s) after SIGTERM:\n%s", i, err, p.cmd.ProcessState, p.out.String())
			}
			mustContain(t, "worker log", p.out.String(), "worker drained and stopped")
		case <-time.After(30 * time.Second):
			t.Fatalf("worker %d did not stop after SIGTERM", i)
		}
	}
}

// Ctrl-C, then run again: the interrupted run prints what it got done and
// how to finish, hands its tasks back at once, and the next run finishes the
// load without waiting out the ack wait (10 minutes here: a resume that
// waited for it would not end within the test's deadline).
func TestInterruptedRunResumesAtOnce(t *testing.T) {
	bin := s3loadBinary(t)
	e := newLoadEnv(t)
	const files = 60
	cfg := embeddedRunConfig(t, e, files, "10m") // a long ack wait
	state := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	cmd := exec.CommandContext(ctx, bin, "run", "--config", cfg, "--state-dir", state, "--workers", "2")
	cmd.Env = os.Environ()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	waitFor(t, "some files to load", time.Minute, func() bool {
		parts, _ := filepath.Glob(filepath.Join(e.out, ".s3load", "t", "*", "part-*.parquet"))
		return len(parts) >= 5
	})
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != ExitFailure {
		t.Fatalf("interrupted run: %v, want exit %d\nstdout:\n%s\nstderr:\n%s", err, ExitFailure, out.String(), errb.String())
	}
	t.Logf("interrupted after %s", time.Since(started).Round(time.Millisecond))
	mustContain(t, "interrupted run's report", out.String(), "INTERRUPTED")
	mustContain(t, "interrupted run's error", errb.String(), "interrupted", "run the same command again")

	resumed := time.Now()
	again := exec.CommandContext(ctx, bin, "run", "--config", cfg, "--state-dir", state, "--workers", "2")
	again.Env = os.Environ()
	outb, err := again.CombinedOutput()
	if err != nil {
		t.Fatalf("resumed run: %v\n%s", err, outb)
	}
	t.Logf("the resumed run took %s", time.Since(resumed).Round(time.Millisecond))
	mustContain(t, "resumed run", string(outb), "every table committed")
	verifyTable(t, e.out, "t", files*5000, files)
}

// SIGKILL in the middle of a load, then run again: the embedded server
// dies with the run, with whatever writes of the state bucket it had
// acknowledged but not yet written to its files (async persist mode,
// natsq.Options.AsyncPersist), and the next run still commits every row
// once. It takes the dead run's coordinator lease over at once: nothing
// else can use the state directory it has locked.
func TestKilledRunResumes(t *testing.T) {
	bin := s3loadBinary(t)
	e := newLoadEnv(t)
	const files = 60
	cfg := embeddedRunConfig(t, e, files, "3s")
	state := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	cmd := exec.CommandContext(ctx, bin, "run", "--config", cfg, "--state-dir", state, "--workers", "2")
	cmd.Env = os.Environ()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a file to load", time.Minute, func() bool {
		parts, _ := filepath.Glob(filepath.Join(e.out, ".s3load", "t", "*", "part-*.parquet"))
		return len(parts) >= 1
	})
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	again := exec.CommandContext(ctx, bin, "run", "--config", cfg, "--state-dir", state, "--workers", "2")
	again.Env = os.Environ()
	outb, err := again.CombinedOutput()
	if err != nil {
		t.Fatalf("resumed run: %v\n%s", err, outb)
	}
	out := string(outb)
	mustContain(t, "resumed run", out, "took the job over from an earlier run that stopped without releasing it", "every table committed")
	if strings.Contains(out, "waiting as a standby") {
		t.Errorf("the resumed run waited for the dead run's lease:\n%s", out)
	}
	// The table's record may say listed, or not (its write lost with the
	// server): the run resumes it, or lists it again over the file records
	// that were kept.
	if kept := regexp.MustCompile(`"table resumed".* kept=(\d+)`).FindStringSubmatch(out); kept != nil {
		t.Logf("killed with %s of %d files loaded", kept[1], files)
	} else {
		mustContain(t, "resumed run", out, `"table listed"`)
		t.Logf("killed before the table's listing was written to the server's files")
	}
	verifyTable(t, e.out, "t", files*5000, files)
}

// embeddedRunConfig puts files CSV files of 5,000 rows each under t/ and
// writes a config of one file a task for `s3load run` with its embedded
// NATS (no url: the state kept in --state-dir) and the given ack wait.
func embeddedRunConfig(t *testing.T, e *loadEnv, files int, ackWait string) string {
	t.Helper()
	for i := range files {
		e.put(fmt.Sprintf("t/f%02d.csv", i), csvRows(i*5000, 5000, ",", true))
	}
	cfg := e.writeConfig("  - { name: t, prefix: t/ }", "batch: { files: 1 }")
	raw, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.Replace(string(raw), "  url: "+e.natsURL+"\n  ack_wait: 3s\n", "  ack_wait: "+ackWait+"\n", 1)
	if doc == string(raw) {
		t.Fatal("the test config's nats block is not as this helper expects")
	}
	if err := os.WriteFile(cfg, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg
}
