package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/testenv"
	"github.com/s3load/s3load/messages"
)

// --progress auto draws bars only on a terminal and never with --log-json.
func TestProgressModeChoice(t *testing.T) {
	tty, _, _ := openPTY(t)
	// A pseudo-terminal nobody sized (script, some container runtimes):
	// bars would draw nothing there.
	unsizedMaster, unsized, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unsized.Close(); unsizedMaster.Close() })
	for _, tc := range []struct {
		name, mode string
		stderr     io.Writer
		json       bool
		want       string
		usage      bool
	}{
		{"auto, not a terminal", "auto", new(bytes.Buffer), false, progressLog, false},
		{"auto, a terminal", "auto", tty, false, progressBars, false},
		{"auto, a terminal, JSON logs", "auto", tty, true, progressLog, false},
		{"auto, a terminal of no width", "auto", unsized, false, progressLog, false},
		{"bars asked for", "bars", new(bytes.Buffer), false, progressBars, false},
		{"off", "off", tty, false, progressOff, false},
		{"unknown", "pretty", tty, false, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := progressFlags{mode: tc.mode, interval: time.Second}.open(tc.stderr, tc.json)
			var exit exitError
			if tc.usage {
				if !errors.As(err, &exit) || exit.code != ExitUsage {
					t.Fatalf("err %v, want a usage error", err)
				}
				return
			}
			if err != nil || v.mode != tc.want {
				t.Fatalf("mode %v %v, want %s", v, err, tc.want)
			}
		})
	}
}

// Off a terminal, a real load writes "progress" lines per table; each
// table's last line carries the report's figures.
func TestProgressLogLines(t *testing.T) {
	e := newLoadEnv(t)
	e.putCSVs("a/", 3, 200)
	e.putCSVs("b/", 5, 100)
	cfg := e.writeConfig("  - { name: alpha, prefix: a/ }\n  - { name: beta, prefix: b/ }", "")
	reportPath := filepath.Join(t.TempDir(), "report.json")
	code, stdout, stderr := runCLI(t, "run", "--config", cfg, "--log-json", "--progress-interval", "200ms", "--report-json", reportPath)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	var r coordinator.Report
	data, err := os.ReadFile(reportPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	type line struct {
		Msg       string  `json:"msg"`
		Table     string  `json:"table"`
		Phase     string  `json:"phase"`
		FilesDone int     `json:"files_done"`
		Files     int     `json:"files"`
		MB        float64 `json:"mb"`
		Rows      int64   `json:"rows"`
		MBPerS    float64 `json:"mb_per_s"`
		ETA       int64   `json:"eta"`
	}
	last := map[string]line{}
	count := map[string]int{}
	for _, s := range strings.Split(strings.TrimSpace(stderr), "\n") {
		var l line
		if err := json.Unmarshal([]byte(s), &l); err != nil {
			t.Fatalf("not a JSON log line: %q", s)
		}
		if l.Msg != "progress" {
			continue
		}
		if prev, ok := last[l.Table]; ok && (prev.Phase == "committed" || prev.Phase == "failed") {
			t.Errorf("table %s: a line after its final one: %s", l.Table, s)
		}
		last[l.Table] = l
		count[l.Table]++
	}
	for _, tr := range r.Tables {
		l, ok := last[tr.Name]
		if !ok {
			t.Errorf("table %s: no progress line", tr.Name)
			continue
		}
		want := line{Msg: "progress", Table: tr.Name, Phase: "committed", FilesDone: tr.Loaded + tr.Failed + tr.Changed,
			Files: tr.Files, MB: megabytes(tr.Bytes), Rows: tr.Rows, MBPerS: l.MBPerS}
		if l != want || l.Files == 0 || l.Rows == 0 {
			t.Errorf("table %s: last progress line %+v, want the report's %+v", tr.Name, l, want)
		}
		t.Logf("table %s: %d progress lines", tr.Name, count[tr.Name])
	}
}

// On a terminal, `s3load run` draws a bar per table that ends committed,
// and the log lines written meanwhile stay whole.
func TestProgressBarsOnTerminal(t *testing.T) {
	e := newLoadEnv(t)
	e.putCSVs("a/", 3, 200)
	e.putCSVs("b/", 4, 100)
	cfg := e.writeConfig("  - { name: alpha_orders, prefix: a/ }\n  - { name: beta, prefix: b/ }", "")
	tty, out, closed := openPTY(t)
	var stdout bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	code := Main(ctx, []string{"run", "--config", cfg}, &stdout, tty)
	closed()
	screen := plain(out.String())
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout.String(), screen)
	}
	for table, files := range map[string]string{"alpha_orders": "3/3 files", "beta": "4/4 files"} {
		final := lastLineWith(screen, table+" ")
		if !strings.Contains(final, files) || !strings.Contains(final, "committed") {
			t.Errorf("table %s: last bar %q, want %q and committed\n%s", table, final, files, screen)
		}
	}
	wholeLogLines(t, screen)
	if !strings.Contains(screen, `msg="load started"`) {
		t.Errorf("no log line on the terminal:\n%s", screen)
	}
}

// The log lines come every interval while a table loads, and stop after
// its final line.
func TestProgressLogLinesEveryInterval(t *testing.T) {
	var buf testenv.SyncBuffer
	v, err := progressFlags{mode: progressLog, interval: 5 * time.Millisecond}.open(&buf, true)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	tp := messages.TableProgress{Table: "alpha", Phase: messages.PhaseLoading, Files: 4, Loaded: 1, DoneBytes: 1e6, SourceBytes: 4e6,
		BytesPerSecond: 5e5, ETASeconds: 6}
	v.watch(func() messages.ProgressRecord {
		mu.Lock()
		defer mu.Unlock()
		return messages.ProgressRecord{Tables: []messages.TableProgress{tp, {Table: "waiting", Phase: messages.PhaseWaiting}}}
	})
	done := make(chan struct{})
	go func() { // owned here: finished() ends it, and we wait on done.
		defer close(done)
		v.logLines(context.Background(), slog.New(slog.NewTextHandler(&buf, nil)))
	}()
	waitFor(t, "two progress lines", time.Minute, func() bool { return strings.Count(buf.String(), "msg=progress") >= 2 })
	mu.Lock()
	tp.Phase, tp.Loaded, tp.DoneBytes, tp.ETASeconds = messages.PhaseCommitted, 4, 4e6, 0
	mu.Unlock()
	waitFor(t, "the final line", time.Minute, func() bool { return strings.Contains(buf.String(), "phase=committed") })
	v.finished()
	<-done
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if !strings.Contains(lines[0], "table=alpha phase=loading files_done=1 files=4 mb=1 rows=0 mb_per_s=0.5 eta=6s") {
		t.Errorf("first line: %s", lines[0])
	}
	if l := lines[len(lines)-1]; !strings.Contains(l, "phase=committed files_done=4 files=4 mb=4") {
		t.Errorf("last line: %s", l)
	}
	if strings.Count(buf.String(), "phase=committed") != 1 || strings.Contains(buf.String(), "waiting") {
		t.Errorf("lines:\n%s", buf.String())
	}
}

// A log line written while bars are drawn lands above them whole; a
// failed table's bar ends with its short reason.
func TestProgressBarsLogLineNotGarbled(t *testing.T) {
	tty, out, closed := openPTY(t)
	v, err := progressFlags{mode: progressAuto, interval: time.Second}.open(tty, false)
	if err != nil || v.mode != progressBars {
		t.Fatalf("%v %v", v, err)
	}
	log := slog.New(slog.NewTextHandler(v.logOutput(), nil))
	var mu sync.Mutex
	rec := messages.ProgressRecord{Tables: []messages.TableProgress{
		{Table: "alpha", Phase: messages.PhaseLoading, Files: 4, Listed: true, Loaded: 1, Rows: 10, SourceBytes: 4e6, DoneBytes: 1e6},
		{Table: "beta", Phase: messages.PhaseLoading, Files: 2, Listed: true, InFlight: 2, SourceBytes: 2e6},
		{Table: "gamma", Phase: messages.PhaseWaiting},
	}}
	set := func(fn func([]messages.TableProgress)) {
		mu.Lock()
		fn(rec.Tables)
		mu.Unlock()
	}
	v.watch(func() messages.ProgressRecord {
		mu.Lock()
		defer mu.Unlock()
		r := rec
		r.Tables = append([]messages.TableProgress(nil), rec.Tables...)
		return r
	})
	done := make(chan struct{})
	go func() { // owned here: finished() ends it, and we wait on done.
		defer close(done)
		v.drawBars(context.Background())
	}()
	waitFor(t, "the first bars", time.Minute, func() bool {
		s := plain(out.String())
		return strings.Contains(s, "alpha") && strings.Contains(s, "1/4 files") && strings.Contains(s, "0/2 files")
	})
	log.Info("in the middle of the bars", "marker", "xyz")
	set(func(ts []messages.TableProgress) {
		ts[0].Phase, ts[0].Loaded, ts[0].Rows, ts[0].DoneBytes, ts[0].Committed = messages.PhaseCommitted, 4, 40, 4e6, true
		ts[1].Phase, ts[1].Failed, ts[1].InFlight, ts[1].DoneBytes = messages.PhaseFailed, 2, 0, 2e6
		ts[1].Error = "2 files failed (max_failed_files 0)\nand a second line"
	})
	waitFor(t, "the final bars", time.Minute, func() bool { return strings.Contains(plain(out.String()), "committed") })
	v.finished()
	<-done
	log.Info("after the bars")
	closed()
	screen := plain(out.String())
	wholeLogLines(t, screen)
	if l := lastLineWith(screen, "in the middle"); !strings.HasSuffix(l, `msg="in the middle of the bars" marker=xyz`) {
		t.Errorf("the log line in the middle: %q\n%s", l, screen)
	}
	if l := lastLineWith(screen, "alpha "); !strings.Contains(l, "4/4 files") || !strings.Contains(l, "committed") {
		t.Errorf("alpha's last bar: %q", l)
	}
	if l := lastLineWith(screen, "beta "); !strings.Contains(l, "2/2 files") || !strings.HasSuffix(l, "failed: 2 files failed (max_failed_files 0)") {
		t.Errorf("beta's last bar: %q", l)
	}
	if strings.Contains(screen, "gamma") {
		t.Errorf("a waiting table got a bar:\n%s", screen)
	}
	if !strings.Contains(lastLineWith(screen, "level="), `msg="after the bars"`) {
		t.Errorf("the log line after the bars is not last:\n%s", screen)
	}
}

// openPTY opens a pseudo-terminal of 40x160 and reads all it shows into
// out; closed closes the terminal and waits for the reader's last byte.
func openPTY(t *testing.T) (tty *os.File, out *testenv.SyncBuffer, closed func()) {
	t.Helper()
	master, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	if err := pty.Setsize(master, &pty.Winsize{Rows: 40, Cols: 160}); err != nil {
		t.Fatal(err)
	}
	out = new(testenv.SyncBuffer)
	read := make(chan struct{})
	go func() { // owned here: closing tty ends it (EIO), closed waits on it.
		defer close(read)
		_, _ = io.Copy(out, master)
	}()
	var once sync.Once
	closed = func() {
		once.Do(func() {
			_ = tty.Close()
			<-read
			_ = master.Close()
		})
	}
	t.Cleanup(closed)
	return tty, out, closed
}

var ansiEscape = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

// plain is what a terminal was sent, without its escape sequences and
// carriage returns: each frame of the bars and each log line on lines of
// their own.
func plain(s string) string {
	s = ansiEscape.ReplaceAllString(s, "\n")
	return strings.ReplaceAll(s, "\r", "")
}

func lastLineWith(s, sub string) string {
	lines := strings.Split(s, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], sub) {
			return strings.TrimSpace(lines[i])
		}
	}
	return ""
}

// wholeLogLines fails on a log line that a bar cut into or ran into.
func wholeLogLines(t *testing.T, screen string) {
	t.Helper()
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, "level=") && (!strings.HasPrefix(l, "time=") || strings.Contains(l, " files ·")) {
			t.Errorf("a garbled log line: %q", l)
		}
	}
}
