// Package statuspage serves a load's live status page: each table's
// progress, its failures, the workers and what they hold, the coordinator,
// and the last loads. It shows a status.Snapshot, as `s3load status`
// prints one, so the two agree on what is stale and which workers are
// alive. The page is rendered on the server (html/template) and kept up to
// date by a small script that polls /api/status; it needs nothing from
// outside the process, so it works offline. Keys and errors are user data:
// the template escapes them, the script only ever sets text.
package statuspage

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/s3load/s3load/internal/status"
	"github.com/s3load/s3load/messages"
)

// Source is where the page reads from. Each feed may be nil (not shown);
// an error from one is shown on the page, and what it read before the
// error and the other feed still are.
type Source struct {
	// Job names the job the page is about.
	Job string
	// Status is the job's status as of now (status.Read); on an error,
	// the snapshot holds what was read before it.
	Status func(ctx context.Context, now time.Time) (status.Snapshot, error)
	// History are the job's last loads, newest first.
	History func(ctx context.Context) ([]messages.LoadRecord, error)
}

// PollInterval is how often the page asks for a new status.
const PollInterval = time.Second

// readTimeout bounds one status read: a store that hangs must not hang
// the page.
const readTimeout = 5 * time.Second

//go:embed assets
var assets embed.FS

var page = template.Must(template.New("page.html").Funcs(template.FuncMap{
	"pct": func(p float64) string { return fmt.Sprintf("%.1f%%", p) },
}).ParseFS(assets, "assets/page.html"))

// Handler serves the page at /, its status as JSON at /api/status and the
// page's script and style under /assets/. Mount it at "/" of a mux.
type Handler struct {
	src Source
	log *slog.Logger
	now func() time.Time
	mux *http.ServeMux
}

// New returns the page's handler over src.
func New(src Source, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{src: src, log: log, now: time.Now, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /{$}", h.serveHTML)
	h.mux.HandleFunc("GET /api/status", h.serveJSON)
	for _, name := range []string{"page.js", "page.css"} {
		h.mux.HandleFunc("GET /assets/"+name, func(w http.ResponseWriter, r *http.Request) {
			http.ServeFileFS(w, r, assets, "assets/"+name)
		})
	}
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The page loads nothing but its own script and style, and is never
	// framed: an injected tag would have nothing to run.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) serveHTML(w http.ResponseWriter, r *http.Request) {
	st := h.Status(r.Context())
	var buf bytes.Buffer
	if err := page.Execute(&buf, st); err != nil {
		h.log.Error("rendering the status page", "err", err)
		http.Error(w, "rendering the status page failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

func (h *Handler) serveJSON(w http.ResponseWriter, r *http.Request) {
	data, err := json.Marshal(h.Status(r.Context()))
	if err != nil {
		h.log.Error("encoding the status", "err", err)
		http.Error(w, "encoding the status failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(data)
}

// Status is what the page shows, as /api/status returns it. Figures come
// raw and as the text the page prints, so the server-rendered page and the
// script print the same.
type Status struct {
	Job  string    `json:"job"`
	Now  time.Time `json:"now"`
	Load *Load     `json:"load,omitempty"`
	// Tables are the tables of the load in progress (or the last one this
	// coordinator carried).
	Tables   []Table   `json:"tables"`
	Failures []Failure `json:"failures"`
	// Workers are the workers alive; WorkersGone counts the records of
	// workers not seen within the worker timeout, and GoneText says so.
	Workers     []Worker `json:"workers"`
	WorkersGone int      `json:"workers_gone"`
	GoneText    string   `json:"gone_text,omitempty"`
	// Coordinator is the holder of the job's lease, nil when none holds it.
	Coordinator *Coordinator `json:"coordinator"`
	History     []Past       `json:"history"`
	// Problems are feeds that could not be read this time.
	Problems []string `json:"problems"`
	Poll     int64    `json:"poll_ms"`
}

// Load is the load the progress is about.
type Load struct {
	ID      string `json:"id"`
	State   string `json:"state"`
	Started string `json:"started"`
	Elapsed string `json:"elapsed"`
	// From is where the figures come from (status.FromProgress or
	// status.FromLoad); FromText says it when they are not live.
	From     string `json:"from"`
	FromText string `json:"from_text,omitempty"`
	// Stale says the coordinator stopped updating a running load.
	Stale string `json:"stale,omitempty"`
}

// Coordinator is the holder of the job's coordinator lease.
type Coordinator struct {
	Holder string `json:"holder"`
	Host   string `json:"host"`
	PID    int    `json:"pid"`
	LoadID string `json:"load_id,omitempty"`
	// Text is what the page prints, as `s3load status` does.
	Text string `json:"text"`
}

// Table is one table's progress.
type Table struct {
	Name  string `json:"name"`
	Phase string `json:"phase"`
	// Files are listed so far; Done of them are final (loaded, failed or
	// changed).
	Files    int    `json:"files"`
	Listed   bool   `json:"listed"`
	Done     int    `json:"done"`
	Loaded   int    `json:"loaded"`
	Failed   int    `json:"failed"`
	Changed  int    `json:"changed"`
	Reused   int    `json:"reused"`
	InFlight int    `json:"in_flight"`
	Rows     int64  `json:"rows"`
	Percent  string `json:"percent"` // of the files, "37.5"
	// The texts the page prints.
	FilesText string `json:"files_text"`
	MBText    string `json:"mb_text"`
	RowsText  string `json:"rows_text"`
	RateText  string `json:"rate_text"`
	ETAText   string `json:"eta_text"`
	Error     string `json:"error,omitempty"`
}

// Failure is a file that did not load, with its error.
type Failure struct {
	Table    string `json:"table"`
	Key      string `json:"key"`
	State    string `json:"state"`
	Attempts int    `json:"attempts"`
	Error    string `json:"error"`
}

// Worker is a worker of the job and the files it holds.
type Worker struct {
	ID      string    `json:"id"`
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Version string    `json:"version"`
	Slots   int       `json:"slots"`
	Paused  string    `json:"paused,omitempty"`
	Seen    string    `json:"seen"` // "3s ago"
	Holding []Holding `json:"holding"`
}

// Holding is one file a worker is loading.
type Holding struct {
	Table    string `json:"table"`
	Key      string `json:"key"`
	RowsText string `json:"rows_text"`
	MBText   string `json:"mb_text"`
	For      string `json:"for"`
}

// Past is an earlier (or the current) load of the job.
type Past struct {
	ID       string      `json:"id"`
	State    string      `json:"state"`
	Started  string      `json:"started"`
	Duration string      `json:"duration"`
	Tables   []PastTable `json:"tables"`
}

// PastTable is one table's outcome in a past load.
type PastTable struct {
	Table     string `json:"table"`
	Committed bool   `json:"committed"`
	Outcome   string `json:"outcome"` // "committed" or "not committed"
	FilesText string `json:"files_text"`
	RowsText  string `json:"rows_text"`
	MBText    string `json:"mb_text"`
	Error     string `json:"error,omitempty"`
}

// Status reads every feed and builds what the page shows.
func (h *Handler) Status(ctx context.Context) Status {
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	now := h.now().UTC()
	st := Status{Job: h.src.Job, Now: now, Tables: []Table{}, Failures: []Failure{}, Workers: []Worker{},
		History: []Past{}, Problems: []string{}, Poll: PollInterval.Milliseconds()}
	if h.src.Status != nil {
		snap, err := h.src.Status(ctx, now)
		if err != nil {
			// The snapshot holds what was read before the error: show it.
			st.Problems = append(st.Problems, fmt.Sprintf("status: %v", err))
		}
		st.Load, st.Tables, st.Failures = progressView(snap)
		st.Workers, st.WorkersGone, st.GoneText = workersView(snap)
		st.Coordinator = coordinatorView(snap.Coordinator)
	}
	if h.src.History != nil {
		loads, err := h.src.History(ctx)
		if err != nil && !errors.Is(err, messages.ErrNotFound) { // nothing yet is not a problem
			st.Problems = append(st.Problems, fmt.Sprintf("history: %v", err))
		}
		if st.Load != nil {
			// The load in progress is shown above; history is what ended.
			loads = slices.DeleteFunc(slices.Clone(loads), func(l messages.LoadRecord) bool {
				return l.LoadID == st.Load.ID && l.State == messages.LoadRunning
			})
		}
		st.History = historyView(loads, st.Now)
	}
	return st
}

func progressView(snap status.Snapshot) (*Load, []Table, []Failure) {
	tables, failures := []Table{}, []Failure{}
	rec := snap.Progress
	if rec == nil || rec.LoadID == "" {
		return nil, tables, failures
	}
	l := &Load{ID: rec.LoadID, State: string(rec.State), Started: clock(rec.Started), From: snap.From}
	end := snap.At
	if !rec.Ended.IsZero() {
		end = rec.Ended
	}
	l.Elapsed = duration(end.Sub(rec.Started))
	if snap.From == status.FromLoad {
		l.FromText = "no progress record: the figures are the load record's summaries"
	}
	if snap.Stale {
		l.Stale = "no update from the coordinator for " + seconds(snap.StaleSeconds)
	}
	for _, tp := range rec.Tables {
		t := Table{Name: tp.Table, Phase: string(tp.Phase), Files: tp.Files, Listed: tp.Listed,
			Done: tp.Loaded + tp.Failed + tp.Changed, Loaded: tp.Loaded, Failed: tp.Failed, Changed: tp.Changed,
			Reused: tp.Reused, InFlight: tp.InFlight, Rows: tp.Rows, Error: tp.Error}
		pct := 0.0
		switch {
		case tp.Phase == messages.PhaseCommitted:
			pct = 100
		case tp.Files > 0:
			pct = min(100, 100*float64(t.Done)/float64(tp.Files))
		}
		t.Percent = fmt.Sprintf("%.1f", pct)
		more := ""
		if !tp.Listed && tp.Phase != messages.PhaseCommitted && tp.Phase != messages.PhaseFailed {
			more = "+" // still listing: the total grows
		}
		t.FilesText = fmt.Sprintf("%d / %d%s files", t.Done, tp.Files, more)
		t.MBText = mb(tp.DoneBytes)
		if tp.SourceBytes > 0 || snap.From == status.FromProgress {
			// A load record knows the bytes loaded, not the source's.
			t.MBText = fmt.Sprintf("%s / %s", mb(tp.DoneBytes), mb(tp.SourceBytes))
		}
		t.RowsText = count(tp.Rows) + " rows"
		if tp.BytesPerSecond > 0 && tp.Phase == messages.PhaseLoading {
			t.RateText = mb(int64(tp.BytesPerSecond)) + "/s"
		}
		if tp.ETASeconds > 0 && tp.Phase == messages.PhaseLoading {
			t.ETAText = "ETA " + seconds(tp.ETASeconds)
		}
		tables = append(tables, t)
		for _, f := range tp.Failures {
			failures = append(failures, Failure{Table: tp.Table, Key: f.Source.Key, State: string(f.State), Attempts: f.Attempts, Error: f.Error})
		}
	}
	return l, tables, failures
}

// workersView is the workers alive, as status.Read judged them (by the
// worker timeout, holdings of an ended load dropped), and how many are
// gone.
func workersView(snap status.Snapshot) ([]Worker, int, string) {
	out := make([]Worker, 0, len(snap.Workers))
	for _, w := range snap.Workers {
		v := Worker{ID: w.ID, Host: w.Host, PID: w.PID, Version: w.Version, Slots: w.Slots, Paused: w.Paused,
			Seen: seconds(w.SeenSecondsAgo) + " ago", Holding: []Holding{}}
		for _, hd := range w.Holding {
			v.Holding = append(v.Holding, Holding{Table: hd.Table, Key: hd.Key, RowsText: count(hd.Rows) + " rows",
				MBText: mb(hd.Bytes), For: seconds(hd.ForSeconds)})
		}
		out = append(out, v)
	}
	gone := ""
	if snap.WorkersGone > 0 {
		gone = fmt.Sprintf("%d gone: not seen within the worker timeout", snap.WorkersGone)
	}
	return out, snap.WorkersGone, gone
}

func coordinatorView(c *status.Coordinator) *Coordinator {
	if c == nil {
		return nil
	}
	return &Coordinator{Holder: c.Holder, Host: c.Host, PID: c.PID, LoadID: c.LoadID,
		Text: fmt.Sprintf("coordinator %s on %s (pid %d), renewed %s ago", c.Holder, c.Host, c.PID, seconds(c.RenewedSecondsAgo))}
}

func historyView(loads []messages.LoadRecord, now time.Time) []Past {
	out := make([]Past, 0, len(loads))
	for _, l := range loads {
		end := l.Ended
		if end.IsZero() {
			end = now
		}
		p := Past{ID: l.LoadID, State: string(l.State), Started: clock(l.Started), Duration: duration(end.Sub(l.Started)), Tables: []PastTable{}}
		for _, t := range l.Tables {
			outcome := "committed"
			if !t.Committed {
				outcome = "not committed"
			}
			p.Tables = append(p.Tables, PastTable{Table: t.Table, Committed: t.Committed, Outcome: outcome,
				FilesText: fmt.Sprintf("%d of %d files loaded, %d failed, %d changed", t.Loaded, t.Files, t.Failed, t.Changed),
				RowsText:  count(t.Rows) + " rows", MBText: mb(t.Bytes), Error: t.Error})
		}
		out = append(out, p)
	}
	return out
}

// mb prints a size in MB, or in kB or bytes when that would print 0.0 MB.
func mb(b int64) string {
	switch {
	case b < 1000:
		return fmt.Sprintf("%d B", b)
	case b < 100_000:
		return fmt.Sprintf("%.1f kB", float64(b)/1e3)
	}
	return fmt.Sprintf("%.1f MB", float64(b)/1e6)
}

// count prints n with thousands separators.
func count(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	var b []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, s[i])
	}
	return string(b)
}

func duration(d time.Duration) string {
	return max(d, 0).Round(time.Second).String()
}

// seconds is duration of a snapshot's age in seconds.
func seconds(s float64) string {
	return duration(time.Duration(s * float64(time.Second)))
}

func clock(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}
