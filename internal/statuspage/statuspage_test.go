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

	"github.com/s3load/s3load/internal/status"
	"github.com/s3load/s3load/messages"
)

const evil = "<script>alert(1)</script>.csv"

var t0 = time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)

// store is a state store in memory for status.Read; a nil record is none,
// and an error set is returned by its read.
type store struct {
	progress   *messages.ProgressRecord
	load       *messages.LoadRecord
	lease      *messages.LeaseRecord
	workers    []messages.WorkerRecord
	workersErr error
}

func (s *store) Progress(context.Context, string) (messages.ProgressRecord, error) {
	if s.progress == nil {
		return messages.ProgressRecord{}, messages.ErrNotFound
	}
	return *s.progress, nil
}

func (s *store) Load(context.Context, string) (messages.LoadRecord, uint64, error) {
	if s.load == nil {
		return messages.LoadRecord{}, 0, messages.ErrNotFound
	}
	return *s.load, 1, nil
}

func (s *store) Lease(context.Context, string) (messages.LeaseRecord, uint64, error) {
	if s.lease == nil {
		return messages.LeaseRecord{}, 0, messages.ErrNotFound
	}
	return *s.lease, 1, nil
}

func (s *store) Workers(context.Context, string) ([]messages.WorkerRecord, error) {
	return s.workers, s.workersErr
}

// workerTimeout is the fixture's ack wait: a worker record older is gone.
const workerTimeout = 30 * time.Second

// source is the page's Source over st, as the CLI wires it.
func source(st *store, history []messages.LoadRecord) Source {
	return Source{Job: "job1",
		Status: func(ctx context.Context, now time.Time) (status.Snapshot, error) {
			return status.Read(ctx, st, "job1", now, workerTimeout)
		},
		History: func(context.Context) ([]messages.LoadRecord, error) { return history, nil },
	}
}

// fixture is a running load: one table loading with a failed file whose
// key and error are markup, one committed; a worker holding a file with
// such a key, another idle, a third gone; the lease holder; the job's
// previous load.
func fixture() (*store, []messages.LoadRecord) {
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
		// Not seen for a minute: gone, counted but not listed.
		{ID: "w-gone", Host: "hg", PID: 3, Slots: 4, Updated: t0.Add(-50 * time.Second),
			Holding: []messages.Holding{{LoadID: "load-2", Table: "orders", Key: "orders/stuck.csv", Since: t0}}},
	}
	lease := messages.LeaseRecord{V: 1, Job: "job1", Holder: "host-42-ab12", Host: "host", PID: 42, LoadID: "load-2",
		Acquired: t0, Renewed: t0.Add(7 * time.Second)}
	history := []messages.LoadRecord{
		{LoadID: "load-2", Job: "job1", State: messages.LoadRunning, Started: t0},
		{LoadID: "load-1", Job: "job1", State: messages.LoadCompleted, Started: t0.Add(-time.Hour), Ended: t0.Add(-time.Hour + time.Minute),
			Tables: []messages.TableSummary{{Table: "orders", Committed: false, Files: 40, Loaded: 30, Failed: 10, Rows: 99, Bytes: 1e6, Error: "too many failed files <b>"}}},
	}
	return &store{progress: &prog, load: &history[0], lease: &lease, workers: workers}, history
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
	srv := serve(t, source(fixture()))
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
	if st.Load == nil || st.Load.ID != "load-2" || st.Load.State != "running" || st.Load.Elapsed != "10s" || st.Load.Stale != "" ||
		st.Load.From != status.FromProgress || st.Load.FromText != "" {
		t.Errorf("load: %+v", st.Load)
	}
	if c := st.Coordinator; c == nil || c.Holder != "host-42-ab12" || c.Text != "coordinator host-42-ab12 on host (pid 42), renewed 3s ago" {
		t.Errorf("coordinator: %+v", c)
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
	// The gone worker is counted, not listed.
	if len(st.Workers) != 2 || st.Workers[0].ID != "w-a" || len(st.Workers[1].Holding) != 1 ||
		st.Workers[1].Holding[0].Key != "orders/"+evil || st.Workers[1].Holding[0].For != "5s" || st.Workers[1].Seen != "2s ago" {
		t.Errorf("workers: %+v", st.Workers)
	}
	if st.WorkersGone != 1 || st.GoneText != "1 gone: not seen within the worker timeout" {
		t.Errorf("workers gone: %d %q", st.WorkersGone, st.GoneText)
	}
	// The running load is shown above, not in the history.
	if len(st.History) != 1 || st.History[0].ID != "load-1" || st.History[0].Duration != "1m0s" ||
		st.History[0].Tables[0].Outcome != "not committed" {
		t.Errorf("history: %+v", st.History)
	}
}

func TestStatusPageEscapes(t *testing.T) {
	srv := serve(t, source(fixture()))
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
		"15 / 40 files", "1,234,567 rows", "2.5 MB/s", "ETA 10s", `value="37.5"`, "load-1", "w-a", "w-b",
		"coordinator host-42-ab12 on host (pid 42), renewed 3s ago", "1 gone: not seen within the worker timeout",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if n := strings.Count(body, "orders/&lt;script&gt;"); n != 2 {
		t.Errorf("the markup key appears %d times, want 2 (failure, holding)", n)
	}
	if strings.Contains(body, "w-gone") || strings.Contains(body, "stuck.csv") {
		t.Error("the page lists a gone worker")
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

// A feed that fails is named on the page; what was read still shows, and a
// store with nothing yet is not a problem.
func TestStatusFeedsFail(t *testing.T) {
	st, _ := fixture()
	st.workersErr = errors.New("nats: timeout")
	src := source(st, nil)
	src.History = func(context.Context) ([]messages.LoadRecord, error) { return nil, messages.ErrNotFound }
	srv := serve(t, src)
	_, body := get(t, srv.URL+"/api/status")
	var got Status
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	const problem = "status: reading the workers of job job1: nats: timeout"
	if len(got.Problems) != 1 || got.Problems[0] != problem || len(got.Tables) != 2 {
		t.Errorf("status: %+v", got)
	}
	_, page := get(t, srv.URL+"/")
	mustHave(t, page, problem, "no finished load yet")
}

// What the page says of the load in each state of the store.
func TestStatusLoadStates(t *testing.T) {
	ended := t0.Add(-time.Minute)
	for _, tc := range []struct {
		name string
		st   func() *store
		want []string
	}{
		{"before any load", func() *store { return &store{} },
			[]string{"no load yet", "no tables yet", "no coordinator holds the job's lease"}},
		{"a running load whose coordinator stopped writing", func() *store {
			st, _ := fixture()
			st.progress.Updated = t0.Add(-time.Minute)
			st.lease = nil
			return st
		}, []string{"no update from the coordinator for 1m10s", "no coordinator holds the job's lease"}},
		{"a load with no progress record", func() *store {
			return &store{load: &messages.LoadRecord{LoadID: "load-3", Job: "job1", State: messages.LoadCompleted,
				Started: ended.Add(-time.Minute), Ended: ended,
				Tables: []messages.TableSummary{{Table: "orders", Committed: true, Files: 4, Loaded: 4, Rows: 40, Bytes: 2e6}}}}
		}, []string{"load-3", "no progress record: the figures are the load record&#39;s summaries",
			"4 / 4 files", "2.0 MB<", "40 rows", "committed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, page := get(t, serve(t, source(tc.st(), nil)).URL+"/")
			mustHave(t, page, tc.want...)
		})
	}
}

func mustHave(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("lacks %q in:\n%s", w, body)
		}
	}
}
