package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/natsq"
	"github.com/s3load/s3load/messages"
)

// runReported runs a load that must commit and returns its report.
func runReported(t *testing.T, args ...string) coordinator.Report {
	t.Helper()
	path := filepath.Join(t.TempDir(), "report.json")
	code, stdout, stderr := runCLI(t, append(append([]string{"run"}, args...), "--report-json", path)...)
	if code != ExitOK {
		t.Fatalf("s3load run exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r coordinator.Report
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// historyJSON runs s3load history --json and returns the loads and what
// it said on stderr.
func historyJSON(t *testing.T, args ...string) ([]historyLoad, string) {
	t.Helper()
	code, stdout, stderr := runCLI(t, append([]string{"history", "--json"}, args...)...)
	if code != ExitOK {
		t.Fatalf("s3load history exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	var loads []historyLoad
	if err := json.Unmarshal([]byte(stdout), &loads); err != nil {
		t.Fatalf("history --json: %v\n%s", err, stdout)
	}
	return loads, stderr
}

// checkHistory checks the history lists exactly the loads of reports,
// newest first, each table with the figures of its run's report, and
// with the sources named.
func checkHistory(t *testing.T, loads []historyLoad, reports []coordinator.Report, tables []string, sources map[string]string) {
	t.Helper()
	if len(loads) != len(reports) {
		t.Fatalf("history lists %d loads, want %d: %+v", len(loads), len(reports), loads)
	}
	for i, l := range loads {
		r := reports[len(reports)-1-i] // newest first
		if l.LoadID != r.LoadID {
			t.Fatalf("history entry %d is load %s, want %s (newest first)", i, l.LoadID, r.LoadID)
		}
		if got, want := strings.Join(l.Sources, "+"), sources[r.LoadID]; got != want {
			t.Errorf("load %s found in %q, want %q", l.LoadID, got, want)
		}
		if l.Started.IsZero() || l.Ended.Before(l.Started) {
			t.Errorf("load %s: started %v, ended %v", l.LoadID, l.Started, l.Ended)
		}
		var names []string
		for _, ht := range l.Tables {
			names = append(names, ht.Table)
			j := slices.IndexFunc(r.Tables, func(rt coordinator.TableReport) bool { return rt.Name == ht.Table })
			if j < 0 {
				t.Errorf("load %s: table %s is not in its report", l.LoadID, ht.Table)
				continue
			}
			rt := r.Tables[j]
			if ht.Committed != rt.Committed || ht.Rows != rt.Rows || ht.Files != rt.Files || ht.Loaded != rt.Loaded ||
				ht.Failed != rt.Failed || ht.Snapshot != rt.Snapshot {
				t.Errorf("load %s table %s: history %+v, report: committed %v rows %d files %d loaded %d failed %d snapshot %q",
					l.LoadID, ht.Table, ht, rt.Committed, rt.Rows, rt.Files, rt.Loaded, rt.Failed, rt.Snapshot)
			}
		}
		want := tables
		if w, ok := sources[r.LoadID+".tables"]; ok {
			want = strings.Split(w, ",")
		}
		if !slices.Equal(names, want) {
			t.Errorf("load %s lists tables %v, want %v", l.LoadID, names, want)
		}
	}
}

// Three loads into Iceberg: two of one config (a file changed between
// them), then one of a config that adds a table (another job). The history
// lists all three, newest first, with each run's figures: the job's loads
// from NATS and the table metadata, the other job's from the snapshots'
// summaries. With the NATS state deleted the committed loads are still
// listed, from the snapshots alone; --table filters.
func TestHistoryIceberg(t *testing.T) {
	e := newIcebergEnv(t, false)
	e.putCSVs("a/", 2, 40)
	e.putCSVs("b/", 3, 10)
	cfgA := e.config("  - { name: a, prefix: a/ }", "")
	r1 := runReported(t, "--config", cfgA)
	e.put("a/f01.csv", csvRows(40, 55, ",", true))
	r2 := runReported(t, "--config", cfgA)
	cfgAB := e.config("  - { name: a, prefix: a/ }\n  - { name: b, prefix: b/ }", "")
	r3 := runReported(t, "--config", cfgAB)
	if r1.Tables[0].Rows != 80 || r2.Tables[0].Rows != 95 || r2.Tables[0].Snapshot == r1.Tables[0].Snapshot {
		t.Fatalf("the loads did not go as meant: %+v %+v", r1.Tables, r2.Tables)
	}
	reports := []coordinator.Report{r1, r2, r3}

	loads, _ := historyJSON(t, "--config", cfgAB)
	checkHistory(t, loads, reports, []string{"a", "b"}, map[string]string{
		r1.LoadID: "metadata", r2.LoadID: "metadata", r3.LoadID: "nats+metadata",
		r1.LoadID + ".tables": "a", r2.LoadID + ".tables": "a"})
	if !loads[0].Tables[0].Current || loads[1].Tables[0].Current {
		t.Errorf("the newest load's snapshot of a should be current, the older not: %+v", loads)
	}
	// The first config's job: its own two loads from NATS, the other's
	// from the metadata of the one table it shares.
	loads, _ = historyJSON(t, "--config", cfgA)
	checkHistory(t, loads, reports, []string{"a"}, map[string]string{
		r1.LoadID: "nats+metadata", r2.LoadID: "nats+metadata", r3.LoadID: "metadata"})
	if loads[1].State != string(messages.LoadCompleted) || loads[0].State != "committed" {
		t.Errorf("states %q %q: want committed (metadata only), completed (a load record)", loads[0].State, loads[1].State)
	}

	loads, _ = historyJSON(t, "--config", cfgAB, "--table", "b")
	checkHistory(t, loads, reports[2:], []string{"b"}, map[string]string{r3.LoadID: "nats+metadata"})
	loads, _ = historyJSON(t, "--config", cfgAB, "--limit", "2")
	checkHistory(t, loads, reports[1:], []string{"a", "b"}, map[string]string{
		r2.LoadID: "metadata", r3.LoadID: "nats+metadata", r2.LoadID + ".tables": "a"})

	code, stdout, stderr := runCLI(t, "history", "--config", cfgAB)
	if code != ExitOK {
		t.Fatalf("history exited %d\n%s\n%s", code, stdout, stderr)
	}
	mustContain(t, "history text", stdout, "load", "snapshot", r1.LoadID, r2.LoadID, r3.LoadID, r3.Tables[1].Snapshot)
	if i1, i3 := strings.Index(stdout, r1.LoadID), strings.Index(stdout, r3.LoadID); i3 > i1 {
		t.Errorf("text history is not newest first:\n%s", stdout)
	}

	// The NATS state is lost: the committed loads are still there.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	nc, js, err := natsq.Connect(ctx, natsq.ConnectOptions{URL: e.natsURL, Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if err := js.DeleteKeyValue(ctx, natsq.StateBucket); err != nil {
		t.Fatal(err)
	}
	loads, stderr = historyJSON(t, "--config", cfgAB)
	mustContain(t, "history without NATS state", stderr, "metadata only")
	checkHistory(t, loads, reports, []string{"a", "b"}, map[string]string{
		r1.LoadID: "metadata", r2.LoadID: "metadata", r3.LoadID: "metadata",
		r1.LoadID + ".tables": "a", r2.LoadID + ".tables": "a"})
}

// Two loads of plain Parquet tables by `s3load run` with its embedded
// NATS: the history reads the kept state directory and lists both. A plain
// table keeps only its current manifest, so without that state only the
// last load is listed, from it.
func TestHistoryPlainParquetEmbedded(t *testing.T) {
	e := newLoadEnv(t)
	e.putCSVs("t/", 2, 30)
	cfg := e.writeConfig("  - { name: t, prefix: t/ }", "")
	raw, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// No nats.url: s3load run embeds NATS, its storage in --state-dir.
	if err := os.WriteFile(cfg, []byte(strings.Replace(string(raw), "  url: "+e.natsURL+"\n", "", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(t.TempDir(), "state")
	r1 := runReported(t, "--config", cfg, "--state-dir", state)
	e.put("t/f00.csv", csvRows(0, 12, ",", true))
	r2 := runReported(t, "--config", cfg, "--state-dir", state)
	if r1.Tables[0].Rows != 60 || r2.Tables[0].Rows != 42 {
		t.Fatalf("the loads did not go as meant: %+v %+v", r1.Tables, r2.Tables)
	}

	loads, stderr := historyJSON(t, "--config", cfg, "--state-dir", state)
	if strings.Contains(stderr, "metadata only") {
		t.Errorf("history did not read the state of s3load run: %s", stderr)
	}
	checkHistory(t, loads, []coordinator.Report{r1, r2}, []string{"t"},
		map[string]string{r1.LoadID: "nats", r2.LoadID: "nats+metadata"})

	loads, stderr = historyJSON(t, "--config", cfg, "--state-dir", filepath.Join(t.TempDir(), "none"))
	mustContain(t, "history without state", stderr, "metadata only")
	checkHistory(t, loads, []coordinator.Report{r2}, []string{"t"}, map[string]string{r2.LoadID: "metadata"})
}

// TestHistoryMerge: a commit is the truth of its table in its load, and
// lists a load whose record is lost; a record adds the loads that did not
// commit, with their errors.
func TestHistoryMerge(t *testing.T) {
	at := func(s string) time.Time { return time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC).Add(mustDuration(t, s)) }
	recs := []messages.LoadRecord{
		{LoadID: "20260101T100000Z-000001", Job: "j", State: messages.LoadIncomplete, Started: at("0s"), Ended: at("5s"),
			Tables: []messages.TableSummary{{Table: "a", Files: 3, Loaded: 2, Failed: 1, Rows: 20, Error: "1 files failed"}, {Table: "x"}}},
		{LoadID: "20260101T100100Z-000002", Job: "j", State: messages.LoadCompleted, Started: at("1m"), Ended: at("1m7s"),
			Tables: []messages.TableSummary{{Table: "a", Committed: true, Files: 3, Loaded: 3, Rows: 30, Reused: 2}}},
	}
	commits := []coordinator.TableCommit{
		{Table: "a", LoadID: "20260101T100100Z-000002", Committed: at("1m6s"), Snapshot: "7", Rows: 30, Files: 3},
		{Table: "a", LoadID: "20260101T100200Z-000003", Job: "k", Committed: at("2m4s"), Snapshot: "8", Current: true, Rows: 31, Files: 2, Failed: 1},
		{Table: "b", LoadID: "20260101T100200Z-000003", Committed: at("2m5s"), Snapshot: "9", Rows: 1, Files: 1},
	}
	got := mergeHistory(recs, commits, []string{"a"})
	want := []historyLoad{
		{LoadID: "20260101T100200Z-000003", Job: "k", State: "committed", Started: at("2m"), Ended: at("2m4s"), Sources: []string{"metadata"},
			Tables: []historyTable{{Table: "a", Committed: true, Snapshot: "8", CommittedAt: at("2m4s"), Current: true, Rows: 31, Files: 3, Loaded: 2, Failed: 1}}},
		{LoadID: "20260101T100100Z-000002", Job: "j", State: "completed", Started: at("1m"), Ended: at("1m7s"), Duration: 7 * time.Second,
			Sources: []string{"nats", "metadata"},
			Tables:  []historyTable{{Table: "a", Committed: true, Snapshot: "7", CommittedAt: at("1m6s"), Rows: 30, Files: 3, Loaded: 3, Reused: 2}}},
		{LoadID: "20260101T100000Z-000001", Job: "j", State: "incomplete", Started: at("0s"), Ended: at("5s"), Duration: 5 * time.Second,
			Sources: []string{"nats"},
			Tables:  []historyTable{{Table: "a", Files: 3, Loaded: 2, Failed: 1, Rows: 20, Error: "1 files failed"}}},
	}
	g, _ := json.MarshalIndent(got, "", " ")
	w, _ := json.MarshalIndent(want, "", " ")
	if string(g) != string(w) {
		t.Fatalf("merged history:\n%s\nwant:\n%s", g, w)
	}
}

func mustDuration(t *testing.T, s string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
