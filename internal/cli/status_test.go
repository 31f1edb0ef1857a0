package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/status"
	"github.com/s3load/s3load/internal/testenv"
	"github.com/s3load/s3load/messages"
	"github.com/s3load/s3load/worker"
)

// statusJSON runs `s3load status --json` in-process and decodes it.
func statusJSON(t *testing.T, cfg string) status.Snapshot {
	t.Helper()
	code, stdout, stderr := runCLI(t, "status", "--config", cfg, "--json")
	if code != ExitOK {
		t.Fatalf("status: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	var snap status.Snapshot
	if err := json.Unmarshal([]byte(stdout), &snap); err != nil {
		t.Fatalf("status --json: %v\n%s", err, stdout)
	}
	return snap
}

// A fleet load (a coordinator and a worker on one NATS server) seen from
// `s3load status`: nothing before it, a table loading and the file the
// worker holds while it runs, and after it exactly the report's figures.
func TestStatusDuringAndAfterFleetLoad(t *testing.T) {
	e := newLoadEnv(t)
	e.putCSVs("t/", 6, 100)
	e.put("t/odd.csv", []byte("id,name,amount,extra\nx,n,1.5,7\n")) // another schema: fails
	e.putCSVs("u/", 3, 50)
	cfg := e.writeConfig("  - { name: t, prefix: t/ }\n  - { name: u, prefix: u/ }", "batch: { files: 1 }\nmax_failed_files: 1")

	code, stdout, stderr := runCLI(t, "status", "--config", cfg)
	if code != ExitOK {
		t.Fatalf("status before any load: exit %d\n%s\n%s", code, stdout, stderr)
	}
	mustContain(t, "status before any load", stdout, "no load has ever run", "workers: 0 alive", "coordinator: none")

	p := e.inProcess(cfg)
	// The worker holds its first file until the test has seen it loading.
	release := make(chan struct{})
	var once sync.Once
	p.startWorker("w-status", func(l worker.Loader) worker.Loader {
		return loaderFunc(func(ctx context.Context, task messages.Task, schema worker.Schemas, pr *worker.Progress) []worker.Outcome {
			once.Do(func() {
				select {
				case <-release:
				case <-ctx.Done():
				}
			})
			return l.Load(ctx, task, schema, pr)
		})
	})
	type result struct {
		r   coordinator.Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := p.coordinator(nil).Run(context.Background())
		done <- result{r, err}
	}()
	t.Cleanup(func() {
		once.Do(func() {}) // a failed test must not leave the worker gated
		select {
		case <-release:
		default:
			close(release)
		}
	})

	var during status.Snapshot
	waitFor(t, "status to show a table loading and the file its worker holds", time.Minute, func() bool {
		during = statusJSON(t, cfg)
		if during.Progress == nil || during.From != status.FromProgress || during.Coordinator == nil || len(during.Workers) != 1 {
			return false
		}
		loading := false
		for _, tp := range during.Progress.Tables {
			loading = loading || tp.Phase == messages.PhaseLoading
		}
		return loading && len(during.Workers[0].Holding) == 1
	})
	if code, stdout, stderr := runCLI(t, "status", "--config", cfg); code != ExitOK {
		t.Errorf("status during the load: exit %d\n%s\n%s", code, stdout, stderr)
	} else {
		t.Logf("status during the load:\n%s", stdout)
	}
	close(release)
	if during.Stale || during.Progress.State != messages.LoadRunning || during.Job != p.job {
		t.Errorf("during the load: stale %v, state %s, job %s (want %s)", during.Stale, during.Progress.State, during.Job, p.job)
	}
	if w := during.Workers[0]; w.ID != "w-status" || !strings.HasPrefix(w.Holding[0].Key, "t/") && !strings.HasPrefix(w.Holding[0].Key, "u/") {
		t.Errorf("the worker during the load: %+v", w)
	}
	if c := during.Coordinator; c.Holder == "" || c.Renewed.IsZero() {
		t.Errorf("the coordinator during the load: %+v", c)
	}

	var res result
	select {
	case res = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("the load did not finish")
	}
	if res.err != nil {
		t.Fatalf("load: %v", res.err)
	}
	after := statusJSON(t, cfg)
	if after.Progress == nil || after.Stale || after.Progress.LoadID != res.r.LoadID || after.Progress.State != messages.LoadCompleted {
		t.Fatalf("after the load: %+v", after)
	}
	if len(after.Workers) != 1 || len(after.Workers[0].Holding) != 0 {
		t.Errorf("after the load the workers are %+v, want w-status holding nothing", after.Workers)
	}
	if after.Coordinator != nil {
		t.Errorf("after the load a coordinator still holds the lease: %+v", after.Coordinator)
	}
	if len(after.Progress.Tables) != len(res.r.Tables) {
		t.Fatalf("status shows %d tables, the report %d", len(after.Progress.Tables), len(res.r.Tables))
	}
	for i, rt := range res.r.Tables {
		st := after.Progress.Tables[i]
		got := fmt.Sprintf("%s files %d loaded %d failed %d changed %d rows %d committed %v", st.Table, st.Files, st.Loaded, st.Failed, st.Changed, st.Rows, st.Committed)
		want := fmt.Sprintf("%s files %d loaded %d failed %d changed %d rows %d committed %v", rt.Name, rt.Files, rt.Loaded, rt.Failed, rt.Changed, rt.Rows, rt.Committed)
		if got != want {
			t.Errorf("status after the load: %s\nthe report:            %s", got, want)
		}
	}
	if t0 := res.r.Tables[0]; t0.Files != 7 || t0.Failed != 1 || t0.Rows != 600 {
		t.Errorf("table t: the report says %d files, %d failed, %d rows; want 7, 1, 600", t0.Files, t0.Failed, t0.Rows)
	}

	code, stdout, stderr = runCLI(t, "status", "--config", cfg)
	if code != ExitOK {
		t.Fatalf("status after the load: exit %d\n%s\n%s", code, stdout, stderr)
	}
	t.Logf("status after the load:\n%s", stdout)
	mustContain(t, "status after the load", stdout, "load "+res.r.LoadID+" completed", "t/odd.csv failed", "workers: 1 alive", "w-status", "idle")

	// --watch --json: one object per line, every 2 s, until interrupted.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lines := &lineCounter{n: 2, reached: cancel}
	var errb bytes.Buffer
	if code := Main(ctx, []string{"status", "--config", cfg, "--watch", "--json"}, lines, &errb); code != ExitOK {
		t.Fatalf("status --watch: exit %d\n%s", code, errb.String())
	}
	for i, line := range strings.Split(strings.TrimSpace(lines.b.String()), "\n") {
		var snap status.Snapshot
		if err := json.Unmarshal([]byte(line), &snap); err != nil || snap.Progress == nil || snap.Progress.LoadID != res.r.LoadID {
			t.Errorf("status --watch --json line %d: %v: %s", i, err, line)
		}
	}
}

// lineCounter collects output and calls reached once n lines were written.
type lineCounter struct {
	mu      sync.Mutex
	b       strings.Builder
	n       int
	reached func()
}

func (l *lineCounter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.Write(p)
	if strings.Count(l.b.String(), "\n") >= l.n {
		l.reached()
	}
	return len(p), nil
}

// A NATS server that does not answer: exit 3 within the short wait, naming
// the URL without its credentials.
func TestStatusNATSUnreachable(t *testing.T) {
	e := newLoadEnv(t)
	cfg := e.writeConfig("  - { name: t, prefix: t/ }", "")
	addr := testenv.RefusedAddr(t)
	code, stdout, stderr := runCLI(t, "status", "--config", cfg, "--nats", "nats://loader:s3cr3t@"+addr)
	if code != ExitFailure {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, ExitFailure, stdout, stderr)
	}
	mustContain(t, "status error", stderr, addr, "no server reachable")
	if strings.Contains(stderr, "s3cr3t") {
		t.Errorf("the error shows the password:\n%s", stderr)
	}
}
