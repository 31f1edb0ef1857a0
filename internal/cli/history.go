package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/config"
	"github.com/s3load/s3load/internal/natsq"
	"github.com/s3load/s3load/messages"
)

// historyNATSWait is how long `s3load history` waits for NATS: it can
// answer from the tables' metadata alone, so it does not wait out
// startup_wait.
const historyNATSWait = 3 * time.Second

// historyTable is one table's outcome in one load, as `s3load history`
// shows it.
type historyTable struct {
	Table     string `json:"table"`
	Committed bool   `json:"committed"`
	// Snapshot is the commit's Iceberg snapshot; CommittedAt and Current
	// come from the table's metadata (Current: the table reads it now).
	Snapshot    string    `json:"snapshot,omitempty"`
	CommittedAt time.Time `json:"committed_at,omitzero"`
	Current     bool      `json:"current,omitempty"`
	Rows        int64     `json:"rows"`
	Files       int       `json:"files"`
	Loaded      int       `json:"loaded"`
	Failed      int       `json:"failed"`
	Changed     int       `json:"changed"`
	Reused      int       `json:"reused"`
	Rejected    int64     `json:"rejected,omitempty"`
	Error       string    `json:"error,omitempty"`
}

// historyLoad is one load of the job.
type historyLoad struct {
	LoadID string `json:"load_id"`
	Job    string `json:"job,omitempty"`
	// State is the load record's (running, incomplete, completed,
	// abandoned), or "committed" for a load known only from the tables'
	// metadata.
	State string `json:"state"`
	// Started is read from the load ID (to the second) when the load is
	// known from the metadata only; Ended is then its last commit.
	Started  time.Time     `json:"started,omitzero"`
	Ended    time.Time     `json:"ended,omitzero"`
	Duration time.Duration `json:"duration_ns,omitempty"`
	// Sources says where the load was found: "nats", "metadata" or both.
	Sources []string       `json:"sources"`
	Tables  []historyTable `json:"tables"`
}

// historySource is what the history reads from NATS: the job's current
// load and the loads that ended before.
type historySource interface {
	Load(ctx context.Context, job string) (messages.LoadRecord, uint64, error)
	History(ctx context.Context, job string) ([]messages.LoadRecord, error)
}

// cmdHistory lists the job's past loads, newest first: per load its
// times and state, per table its figures and commit. The tables' own
// metadata (Iceberg snapshots, a plain table's manifest) is the truth of
// what committed and outlives NATS; the job's records in NATS add the
// loads that did not commit and the file counts.
func cmdHistory(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("history", flag.ContinueOnError)
	var cf common
	cf.register(fs)
	table := fs.String("table", "", "only this table")
	asJSON := fs.Bool("json", false, "print the loads as a JSON array")
	limit := fs.Int("limit", 20, "at most this many loads, the newest (0: all)")
	stateDir := fs.String("state-dir", "", "the embedded NATS storage of `s3load run`, when the config has no nats.url (default: as s3load run)")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	c, log, err := cf.configure(stderr)
	if err != nil {
		return err
	}
	if *limit < 0 {
		return usageErr(errors.New("--limit must not be negative"))
	}
	tables := make([]string, len(c.Tables))
	for i, t := range c.Tables {
		tables[i] = t.Name
	}
	if *table != "" {
		if !slices.Contains(tables, *table) {
			return usageErr(fmt.Errorf("--table %s: not a table of the config (%s)", *table, strings.Join(tables, ", ")))
		}
		tables = []string{*table}
	}
	job := jobID(c)

	commits, err := readCommits(ctx, c, job, tables, log, stderr)
	if err != nil {
		return exitError{code: ExitFailure, err: err}
	}
	var recs []messages.LoadRecord
	src, done, why := openHistorySource(ctx, c, *stateDir, job, log)
	if src != nil {
		recs, err = natsHistory(ctx, src, job)
		done()
		if err != nil {
			why = fmt.Sprintf("reading the job's records in NATS: %v", err)
		}
	}
	if why != "" {
		fmt.Fprintf(stderr, "s3load history: %s; listing from the tables' metadata only (committed loads, without the loads that did not commit)\n", why)
	}
	loads := mergeHistory(recs, commits, tables)
	if *limit > 0 && len(loads) > *limit {
		loads = loads[:*limit]
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(loads)
	}
	return writeHistoryText(stdout, loads)
}

// readCommits reads each table's commits from its metadata, through the
// table format's adapter. A table that cannot be read is said on stderr;
// the others are still listed.
func readCommits(ctx context.Context, c config.Config, job string, tables []string, log *slog.Logger, stderr io.Writer) ([]coordinator.TableCommit, error) {
	ad, err := buildAdapters(ctx, c, nil)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, cl := range ad.closers {
			_ = cl()
		}
	}()
	if err := ad.openLake(ctx, c, job, log); err != nil {
		return nil, err
	}
	var cl coordinator.CommitLog = ad.target
	if ad.lake != nil {
		cl = ad.lake
	}
	var out []coordinator.TableCommit
	for _, t := range tables {
		cs, err := cl.Commits(ctx, t)
		if err != nil {
			fmt.Fprintf(stderr, "s3load history: table %s: reading its metadata: %v\n", t, err)
			continue
		}
		out = append(out, cs...)
	}
	return out, nil
}

// openHistorySource connects to the job's NATS: the config's (or
// --nats), else the embedded storage `s3load run` keeps. It does not wait
// for a NATS that is not there: why says what is missing, and the history
// comes from the tables' metadata only.
func openHistorySource(ctx context.Context, c config.Config, stateDir, job string, log *slog.Logger) (src historySource, done func(), why string) {
	url := c.NATS.URL
	var stop func()
	if url == "" {
		dir := stateDir
		if dir == "" {
			var err error
			if dir, err = defaultStateDir(job); err != nil {
				return nil, nil, err.Error()
			}
		}
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Sprintf("no nats.url in the config and no state of `s3load run` at %s", dir)
		}
		unlock, err := lockStateDir(dir)
		if err != nil {
			return nil, nil, fmt.Sprintf("the state of `s3load run` at %s is not readable now (%v)", dir, err)
		}
		srv, err := natsq.StartEmbedded(dir, "127.0.0.1", 0)
		if err != nil {
			unlock()
			return nil, nil, fmt.Sprintf("starting NATS on the state of `s3load run` at %s: %v", dir, err)
		}
		url, stop = srv.URL(), func() { srv.Shutdown(); unlock() }
	}
	fail := func(format string, args ...any) (historySource, func(), string) {
		if stop != nil {
			stop()
		}
		return nil, nil, fmt.Sprintf(format, args...)
	}
	nc, js, err := natsq.Connect(ctx, natsOptions(url, "s3load-history", c.NATS, historyNATSWait, log))
	if err != nil {
		return fail("NATS not reachable: %v", err)
	}
	st, err := natsq.LookupState(ctx, js, queueOptions(c))
	if errors.Is(err, messages.ErrNotFound) {
		nc.Close()
		return fail("NATS holds no state of s3load (deleted, or a new server)")
	}
	if err != nil {
		nc.Close()
		return fail("NATS: %v", err)
	}
	return st, func() {
		nc.Close()
		if stop != nil {
			stop()
		}
	}, ""
}

// natsHistory is the job's history in NATS with its current load, whose
// record is the newer where both hold the load (it may have been resumed).
func natsHistory(ctx context.Context, src historySource, job string) ([]messages.LoadRecord, error) {
	recs, err := src.History(ctx, job)
	if err != nil {
		return nil, err
	}
	cur, _, err := src.Load(ctx, job)
	switch {
	case errors.Is(err, messages.ErrNotFound):
		return recs, nil
	case err != nil:
		return nil, err
	}
	recs = slices.DeleteFunc(recs, func(r messages.LoadRecord) bool { return r.LoadID == cur.LoadID })
	return append(recs, cur), nil
}

// mergeHistory joins the job's load records with the tables' commits,
// newest load first. A commit is the truth of its table in its load
// (committed, rows, snapshot), and lists the load even without a record;
// the records add what did not commit and the file counts. Only tables
// are kept, in their order.
func mergeHistory(recs []messages.LoadRecord, commits []coordinator.TableCommit, tables []string) []historyLoad {
	byID := map[string]*historyLoad{}
	var loads []*historyLoad
	get := func(id string) *historyLoad {
		if l := byID[id]; l != nil {
			return l
		}
		l := &historyLoad{LoadID: id}
		byID[id] = l
		loads = append(loads, l)
		return l
	}
	for _, r := range recs {
		l := get(r.LoadID)
		l.Job, l.State, l.Started, l.Ended = r.Job, string(r.State), r.Started, r.Ended
		l.Sources = append(l.Sources, "nats")
		for _, t := range r.Tables {
			if !slices.Contains(tables, t.Table) {
				continue
			}
			l.Tables = append(l.Tables, historyTable{Table: t.Table, Committed: t.Committed, Snapshot: t.Snapshot,
				Rows: t.Rows, Files: t.Files, Loaded: t.Loaded, Failed: t.Failed, Changed: t.Changed,
				Reused: t.Reused, Rejected: t.Rejected, Error: t.Error})
		}
	}
	for _, c := range commits {
		if !slices.Contains(tables, c.Table) {
			continue
		}
		l := get(c.LoadID)
		if !slices.Contains(l.Sources, "metadata") {
			l.Sources = append(l.Sources, "metadata")
		}
		if l.State == "" { // known from the metadata only
			l.State, l.Job = "committed", c.Job
			if l.Started.IsZero() {
				l.Started = loadStart(c.LoadID)
			}
			if c.Committed.After(l.Ended) {
				l.Ended = c.Committed
			}
		}
		i := slices.IndexFunc(l.Tables, func(t historyTable) bool { return t.Table == c.Table })
		if i < 0 {
			l.Tables = append(l.Tables, historyTable{Table: c.Table, Files: c.Files + c.Failed, Loaded: c.Files, Failed: c.Failed})
			i = len(l.Tables) - 1
		}
		t := &l.Tables[i]
		t.Committed, t.Snapshot, t.Rows, t.CommittedAt, t.Current = true, c.Snapshot, c.Rows, c.Committed, c.Current
		t.Rejected = cmp.Or(t.Rejected, c.Rejected)
		t.Error = ""
	}
	out := make([]historyLoad, 0, len(loads))
	for _, l := range loads {
		if len(l.Tables) == 0 {
			continue // none of the tables asked for
		}
		slices.SortStableFunc(l.Tables, func(a, b historyTable) int {
			return slices.Index(tables, a.Table) - slices.Index(tables, b.Table)
		})
		// A start read from the load ID is to the second only: too coarse
		// for a duration.
		if slices.Contains(l.Sources, "nats") && !l.Started.IsZero() && l.Ended.After(l.Started) {
			l.Duration = l.Ended.Sub(l.Started)
		}
		out = append(out, *l)
	}
	// A start read from a load ID has whole seconds only: within a second,
	// the load that ended later is the newer.
	slices.SortStableFunc(out, func(a, b historyLoad) int {
		if c := b.Started.Truncate(time.Second).Compare(a.Started.Truncate(time.Second)); c != 0 {
			return c
		}
		if c := b.Ended.Compare(a.Ended); c != 0 {
			return c
		}
		return strings.Compare(b.LoadID, a.LoadID)
	})
	return out
}

// loadStart reads a load's start from its ID (newLoadID: the start time to
// the second, then a random suffix); zero if the ID is not one of those.
func loadStart(id string) time.Time {
	ts, _, _ := strings.Cut(id, "-")
	t, err := time.Parse("20060102T150405Z", ts)
	if err != nil {
		return time.Time{}
	}
	return t
}

func writeHistoryText(w io.Writer, loads []historyLoad) error {
	if len(loads) == 0 {
		_, err := fmt.Fprintln(w, "no load of these tables is recorded")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "load\tstarted\tended\tseconds\tstate\ttable\tcommitted\tfiles\tloaded\tfailed\treused\trows\tsnapshot\t")
	at := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format(time.DateTime)
	}
	for _, l := range loads {
		secs := "-"
		if l.Duration > 0 {
			secs = fmt.Sprintf("%.1f", l.Duration.Seconds())
		}
		for i, t := range l.Tables {
			head := fmt.Sprintf("%s\t%s\t%s\t%s\t%s", l.LoadID, at(l.Started), at(l.Ended), secs, l.State)
			if i > 0 {
				head = "\t\t\t\t"
			}
			fmt.Fprintf(tw, "%s\t%s\t%v\t%d\t%d\t%d\t%d\t%d\t%s\t\n", head, t.Table, t.Committed, t.Files, t.Loaded,
				t.Failed+t.Changed, t.Reused, t.Rows, cmp.Or(t.Snapshot, "-"))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, l := range loads {
		for _, t := range l.Tables {
			if t.Error != "" {
				fmt.Fprintf(w, "%s %s: %s\n", l.LoadID, t.Table, t.Error)
			}
		}
	}
	return nil
}
