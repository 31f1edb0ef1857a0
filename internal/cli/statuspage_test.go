package cli

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/testenv"
	"github.com/s3load/s3load/messages"
	"github.com/s3load/s3load/worker"
)

// markupKey is an object key that is markup: the page must show it as text.
const markupKey = "t/<script>alert(1)</script>.csv"

// domStatus is what the page shows, read from the browser's DOM.
type domStatus struct {
	Updates int `json:"updates"`
	Tables  []struct {
		Name  string `json:"name"`
		Phase string `json:"phase"`
		Files string `json:"files"`
		Rows  string `json:"rows"`
	} `json:"tables"`
	Failures []struct {
		Key   string `json:"key"`
		Error string `json:"error"`
	} `json:"failures"`
	Holding    []string `json:"holding"`
	Workers    int      `json:"workers"`
	History    string   `json:"history"`
	BodyScript int      `json:"body_scripts"`
	HTML       string   `json:"html"`
}

const readDOM = `(() => {
  const text = (root, sel) => { const e = root.querySelector(sel); return e ? e.textContent : ""; };
  return {
    updates: Number(document.body.dataset.updates || 0),
    tables: [...document.querySelectorAll("#tables .table")].map((d) => ({
      name: d.dataset.table, phase: text(d, ".phase"), files: text(d, ".files"), rows: text(d, ".rows") })),
    failures: [...document.querySelectorAll("#failures tbody tr")].map((tr) => ({ key: text(tr, ".key"), error: text(tr, ".error") })),
    holding: [...document.querySelectorAll("#workers .held .key")].map((e) => e.textContent),
    workers: document.querySelectorAll("#workers tbody tr").length,
    history: document.getElementById("history").textContent,
    body_scripts: document.body.querySelectorAll("script").length,
    html: document.documentElement.outerHTML,
  };
})()`

// table returns the named table's files done and listed as the page
// prints them ("7 / 12 files").
func (d domStatus) table(name string) (done, files int, phase, rows string, ok bool) {
	for _, t := range d.Tables {
		if t.Name == name {
			if _, err := fmt.Sscanf(t.Files, "%d / %d", &done, &files); err != nil {
				return 0, 0, "", "", false
			}
			return done, files, t.Phase, t.Rows, true
		}
	}
	return 0, 0, "", "", false
}

// The status page in a real browser during a real load (versitygw, NATS,
// the coordinator and two workers in process): the tables and their counts
// show and advance without a reload while the workers are held back, the
// failed file's markup key shows as text, and at the end the page's counts
// are the report's. Screenshots go to $S3LOAD_TEST_ARTIFACTS (else a temp
// directory).
func TestStatusPageInChromium(t *testing.T) {
	browser := chromiumPath(t)
	e := newLoadEnv(t)
	const tFiles, uFiles = 12, 6
	e.putCSVs("t/", tFiles, 100)
	e.putCSVs("u/", uFiles, 50)
	e.put(markupKey, []byte("id,name,amount,extra\nx,n,1.5,7\n")) // columns unlike the others': fails
	cfg := e.writeConfig("  - { name: t, prefix: t/ }\n  - { name: u, prefix: u/ }", "max_failed_files: 1\nbatch: { files: 1 }\n")
	p := e.inProcess(cfg)

	// Each file waits for a token: the test lets the load on in steps.
	tokens := make(chan struct{}, 100)
	release := func(n int) {
		for range n {
			tokens <- struct{}{}
		}
	}
	gate := func(l worker.Loader) worker.Loader {
		return loaderFunc(func(ctx context.Context, task messages.Task, schema worker.Schemas, pr *worker.Progress) []worker.Outcome {
			select {
			case <-tokens:
			case <-ctx.Done():
			}
			return l.Load(ctx, task, schema, pr)
		})
	}
	p.startWorker("w1", gate)
	p.startWorker("w2", gate)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr := testenv.FreeAddr(t)
	execute, interrupt, err := serveHTTP(ctx, addr, endpoints{check: func() (bool, string) { return true, "" }, page: p.statusPage()})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- execute() }()
	t.Cleanup(func() { interrupt(nil); <-served })

	co := p.coordinator(nil)
	type result struct {
		r   coordinator.Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := co.Run(ctx)
		done <- result{r, err}
	}()
	t.Cleanup(func() { cancel(); release(cap(tokens) - len(tokens)) })

	bctx := newBrowser(t, browser)
	var dialogs atomic.Int32
	if err := chromedp.Listen(bctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			dialogs.Add(1)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(1100, 820), chromedp.Navigate("http://"+addr+"/")); err != nil {
		t.Fatal(err)
	}
	read := func() domStatus {
		t.Helper()
		rctx, cancel := context.WithTimeout(bctx, 30*time.Second)
		defer cancel()
		d, err := chromedp.Run(rctx, chromedp.Evaluate[domStatus](readDOM))
		if err != nil {
			t.Fatalf("reading the page: %v", err)
		}
		return d
	}
	// waitPage polls the page (which updates itself) until cond holds.
	waitPage := func(what string, cond func(domStatus) bool) domStatus {
		t.Helper()
		var d domStatus
		waitFor(t, what+" on the page", 2*time.Minute, func() bool {
			d = read()
			return cond(d)
		})
		return d
	}

	// Listed and loading, the workers holding a file each, nothing done.
	first := waitPage("table t listed and two files held", func(d domStatus) bool {
		_, tf, tp, _, ok := d.table("t")
		return d.Updates > 0 && ok && tf == tFiles+1 && tp == string(messages.PhaseLoading) && len(d.Holding) == 2
	})
	d1, _, _, _, _ := first.table("t")
	t.Logf("first look: t %d done; holding %q", d1, first.Holding)

	release(6)
	second := waitPage("files done to advance", func(d domStatus) bool {
		t2, _, _, _, _ := d.table("t")
		u2, _, _, _, _ := d.table("u")
		return t2+u2 >= d1+5 // the sixth may still be in a worker
	})
	saveScreenshot(t, bctx, "status-page-live.png")
	if second.Updates <= first.Updates {
		t.Errorf("the page did not update itself (%d updates, then %d)", first.Updates, second.Updates)
	}

	release(cap(tokens) - len(tokens))
	var res result
	select {
	case res = <-done:
	case <-time.After(3 * time.Minute):
		t.Fatal("the load did not finish")
	}
	if res.err != nil {
		t.Fatalf("load: %v", res.err)
	}
	final := waitPage("every table ended", func(d domStatus) bool {
		_, _, tp, _, _ := d.table("t")
		_, _, up, _, _ := d.table("u")
		return tp == string(messages.PhaseCommitted) && up == string(messages.PhaseCommitted) && strings.Contains(d.History, res.r.LoadID)
	})
	saveScreenshot(t, bctx, "status-page-final.png")
	for _, tr := range res.r.Tables {
		gotDone, gotFiles, _, gotRows, ok := final.table(tr.Name)
		if !ok {
			t.Errorf("table %s is not on the page", tr.Name)
			continue
		}
		if gotDone != tr.Loaded+tr.Failed+tr.Changed || gotFiles != tr.Files || gotRows != count(tr.Rows)+" rows" {
			t.Errorf("table %s: the page shows %d / %d files, %s; the report %d files, %d loaded, %d failed, %d rows",
				tr.Name, gotDone, gotFiles, gotRows, tr.Files, tr.Loaded, tr.Failed, tr.Rows)
		}
	}
	if tr := res.r.Tables[0]; tr.Name != "t" || tr.Failed != 1 || tr.Loaded != tFiles {
		t.Errorf("report: %+v", res.r.Tables)
	}

	// The failed file's key is shown as text, and nothing of it ran.
	if len(final.Failures) != 1 || final.Failures[0].Key != markupKey || final.Failures[0].Error == "" {
		t.Errorf("failures on the page: %+v", final.Failures)
	}
	if final.BodyScript != 0 || dialogs.Load() != 0 {
		t.Errorf("the key's markup ran: %d scripts in the body, %d dialogs", final.BodyScript, dialogs.Load())
	}
	if strings.Contains(final.HTML, e.s3.SecretAccessKey) {
		t.Error("the page shows the S3 secret")
	}
}

// count prints n as the page does.
func count(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// chromiumPath finds the browser; without it the test fails: `make
// system-tools` installs it (Debian's chromium).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no chromium on PATH: run `make system-tools` (apt-get install chromium)")
	return ""
}

// newBrowser starts a headless browser for the test and returns its tab's
// context; the browser stops when the test ends.
func newBrowser(t *testing.T, path string) context.Context {
	t.Helper()
	dir, err := os.MkdirTemp("", "s3load-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.UserDataDir(dir),
		chromedp.DisableGPU, chromedp.NoSandbox, // tests run as root in containers
		chromedp.WindowSize(1100, 820))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelTab := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		// The browser's children may still write there a moment after it stops.
		deadline := time.Now().Add(5 * time.Second)
		for os.RemoveAll(dir) != nil && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
	})
	// The first action starts the browser: without a timeout, which would
	// stop the browser with it.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return bctx
}

// saveScreenshot writes a PNG of the page to the test's artifacts.
func saveScreenshot(t *testing.T, bctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("S3LOAD_TEST_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(bctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}
