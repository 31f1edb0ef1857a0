package statuspage

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/s3load/s3load/messages"
)

const evil = "<script>alert(1)</script>.csv"

var t0 = time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)

// fixture is a running load: one table loading with a failed file whose
// key and error are markup, one committed; a worker holding a file with
// such a key; the job's previous load.
func fixture() Source {
	prog := messages.ProgressRecord{V: 1, Job: "job1", LoadID: "load-2", State: messages.LoadRunning, Coordinator: "host/42",
		Started: t0, Updated: t0.Add(9 * time.Second), Tables: []messages.TableProgress{
			{Table: "orders", Phase: messages.PhaseLoading, Files: 40, Listed: true, InFlight: 25, Loaded: 12, Failed: 3,
				Rows: 1234567, SourceBytes: 40e6, DoneBytes: 15e6, BytesPerSecond: 2.5e6, ETASeconds: 10,
				Failures: []messages.ManifestFailure{{Source: messages.Source{Key: "orders/" + evil}, State: messages.StateFailed,
					Error: `decoding "x": <img src=x onerror=alert(2)>`, Attempts: 2}}},
			{Table: "events", Phase: messages.PhaseCommitted, Files: 5, Listed: true, Loaded: 5, Rows: 500, Committed: true},
		}}
	workers := []messages.WorkerRecord{
		{ID: "w-b", Host: "hb", PID: 2, Slots: 2, Updated: t0.Add(8 * time.Second),
			Spec:    messages.JobSpec{"catalog.uri": "postgres://u:hunter2@db/x"},
			Holding: []messages.Holding{{LoadID: "load-2", Table: "orders", Key: "orders/" + evil, Bytes: 3e6, Rows: 10, Since: t0.Add(5 * time.Second)}}},
		{ID: "w-a", Host: "ha", PID: 1, Slots: 1, Updated: t0.Add(9 * time.Second)},
	}
	history := []messages.LoadRecord{
		{LoadID: "load-2", Job: "job1", State: messages.LoadRunning, Started: t0},
		{LoadID: "load-1", Job: "job1", State: messages.LoadCompleted, Started: t0.Add(-time.Hour), Ended: t0.Add(-time.Hour + time.Minute),
			Tables: []messages.TableSummary{{Table: "orders", Committed: false, Files: 40, Loaded: 30, Failed: 10, Rows: 99, Bytes: 1e6, Error: "too many failed files <b>"}}},
	}
	return Source{Job: "job1",
		Progress: func(context.Context) (messages.ProgressRecord, error) { return prog, nil },
		Workers:  func(context.Context) ([]messages.WorkerRecord, error) { return workers, nil },
		History:  func(context.Context) ([]messages.LoadRecord, error) { return history, nil },
	}
}

func serve(t *testing.T, src Source) *httptest.Server {
	t.Helper()
	h := New(src, nil)
	h.now = func() time.Time { return t0.Add(10 * time.Second) }
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func TestStatusJSON(t *testing.T) {
	srv := serve(t, fixture())
	resp, body := get(t, srv.URL+"/api/status")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%s %s: %s", resp.Status, resp.Header.Get("Content-Type"), body)
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, "<img") {
		t.Errorf("markup unescaped in the JSON: %s", body)
	}
	if strings.Contains(body, "hunter2") || strings.Contains(body, "catalog.uri") {
		t.Errorf("a worker's job spec leaked into the status: %s", body)
	}
	var st Status
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	if st.Load == nil || st.Load.ID != "load-2" || st.Load.State != "running" || st.Load.Elapsed != "10s" || st.Load.Stale != "" {
		t.Errorf("load: %+v", st.Load)
	}
	want := []Table{
		{Name: "orders", Phase: "loading", Files: 40, Listed: true, Done: 15, Loaded: 12, Failed: 3, InFlight: 25, Rows: 1234567,
			Percent: "37.5", FilesText: "15 / 40 files", MBText: "15.0 MB / 40.0 MB", RowsText: "1,234,567 rows", RateText: "2.5 MB/s", ETAText: "ETA 10s"},
		{Name: "events", Phase: "committed", Files: 5, Listed: true, Done: 5, Loaded: 5, Rows: 500,
			Percent: "100.0", FilesText: "5 / 5 files", MBText: "0 B / 0 B", RowsText: "500 rows"},
	}
	if len(st.Tables) != len(want) {
		t.Fatalf("tables: %+v", st.Tables)
	}
	for i := range want {
		if st.Tables[i] != want[i] {
			t.Errorf("table %d:\n got %+v\nwant %+v", i, st.Tables[i], want[i])
		}
	}
	if len(st.Failures) != 1 || st.Failures[0].Key != "orders/"+evil || !strings.Contains(st.Failures[0].Error, "<img") {
		t.Errorf("failures: %+v", st.Failures)
	}
	if len(st.Workers) != 2 || st.Workers[0].ID != "w-a" || len(st.Workers[1].Holding) != 1 ||
		st.Workers[1].Holding[0].Key != "orders/"+evil || st.Workers[1].Holding[0].For != "5s" || st.Workers[1].Seen != "2s ago" {
		t.Errorf("workers: %+v", st.Workers)
	}
	// The running load is shown above, not in the history.
	if len(st.History) != 1 || st.History[0].ID != "load-1" || st.History[0].Duration != "1m0s" ||
		st.History[0].Tables[0].Outcome != "not committed" {
		t.Errorf("history: %+v", st.History)
	}
}

func TestStatusPageEscapes(t *testing.T) {
	srv := serve(t, fixture())
	resp, body := get(t, srv.URL+"/")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("%s: %s", resp.Status, body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("Content-Security-Policy: %q", csp)
	}
	for _, bad := range []string{"<script>alert(1)", "<img src=x", "<b>", "hunter2"} {
		if strings.Contains(body, bad) {
			t.Errorf("page holds %q unescaped", bad)
		}
	}
	for _, want := range []string{
		"orders/&lt;script&gt;alert(1)&lt;/script&gt;.csv", // the failure and the holding
		"&lt;img src=x onerror=alert(2)&gt;",
		"too many failed files &lt;b&gt;",
		"15 / 40 files", "1,234,567 rows", "2.5 MB/s", "ETA 10s", `value="37.5"`, "load-1", "w-a", "w-b", "host/42",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if n := strings.Count(body, "orders/&lt;script&gt;"); n != 2 {
		t.Errorf("the markup key appears %d times, want 2 (failure, holding)", n)
	}
	for _, asset := range []string{"/assets/page.js", "/assets/page.css"} {
		if resp, _ := get(t, srv.URL+asset); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %s", asset, resp.Status)
		}
	}
	for _, path := range []string{"/assets/page.html", "/nothing"} {
		if resp, _ := get(t, srv.URL+path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %s, want 404", path, resp.Status)
		}
	}
}

// A feed that fails is named on the page; the others still show, and a
// store with nothing yet is not a problem.
func TestStatusFeedsFail(t *testing.T) {
	src := fixture()
	src.Workers = func(context.Context) ([]messages.WorkerRecord, error) { return nil, errors.New("nats: timeout") }
	src.History = func(context.Context) ([]messages.LoadRecord, error) { return nil, messages.ErrNotFound }
	srv := serve(t, src)
	_, body := get(t, srv.URL+"/api/status")
	var st Status
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Problems) != 1 || st.Problems[0] != "workers: nats: timeout" || len(st.Tables) != 2 {
		t.Errorf("status: %+v", st)
	}
	_, page := get(t, srv.URL+"/")
	mustHave(t, page, "workers: nats: timeout", "no finished load yet")

	// Before any load: no load, no tables, and a stale coordinator is named.
	empty := Source{Job: "j", Progress: func(context.Context) (messages.ProgressRecord, error) { return messages.ProgressRecord{}, nil }}
	_, page = get(t, serve(t, empty).URL+"/")
	mustHave(t, page, "no load yet", "no tables yet")
	stale := fixture()
	p, _ := stale.Progress(context.Background())
	p.Updated = t0.Add(-time.Minute)
	stale.Progress = func(context.Context) (messages.ProgressRecord, error) { return p, nil }
	_, page = get(t, serve(t, stale).URL+"/")
	mustHave(t, page, "no update from the coordinator for 1m10s")
}

func mustHave(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("lacks %q in:\n%s", w, body)
		}
	}
}
