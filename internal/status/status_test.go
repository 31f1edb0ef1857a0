package status

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/s3load/s3load/messages"
)

// store is a Reader over fixed records; nil means no record.
type store struct {
	progress *messages.ProgressRecord
	load     *messages.LoadRecord
	lease    *messages.LeaseRecord
	workers  []messages.WorkerRecord
}

func notFound(what string) error { return fmt.Errorf("reading %s: %w", what, messages.ErrNotFound) }

func (s store) Progress(context.Context, string) (messages.ProgressRecord, error) {
	if s.progress == nil {
		return messages.ProgressRecord{}, notFound("progress")
	}
	return *s.progress, nil
}

func (s store) Load(context.Context, string) (messages.LoadRecord, uint64, error) {
	if s.load == nil {
		return messages.LoadRecord{}, 0, notFound("job")
	}
	return *s.load, 1, nil
}

func (s store) Lease(context.Context, string) (messages.LeaseRecord, uint64, error) {
	if s.lease == nil {
		return messages.LeaseRecord{}, 0, notFound("lease")
	}
	return *s.lease, 1, nil
}

func (s store) Workers(context.Context, string) ([]messages.WorkerRecord, error) {
	return s.workers, nil
}

func TestStatusRendering(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	started := ago(5 * time.Minute)
	loading := messages.TableProgress{Table: "orders", Phase: messages.PhaseLoading, Files: 120, Listed: true,
		InFlight: 18, Loaded: 100, Failed: 2, Rows: 123456, SourceBytes: 300e6, DoneBytes: 120e6,
		BytesPerSecond: 4.2e6, ETASeconds: 43, Started: started,
		Failures: []messages.ManifestFailure{{Source: messages.Source{Key: "orders/bad.csv"}, State: messages.StateFailed,
			Error: "line 7: column amount: not a number", Attempts: 1}}}
	listing := messages.TableProgress{Table: "events", Phase: messages.PhaseListing, Files: 40, InFlight: 40}
	running := func(updated time.Time) *messages.ProgressRecord {
		return &messages.ProgressRecord{V: messages.Version, Job: "j1", LoadID: "L2", State: messages.LoadRunning,
			Coordinator: "hostc/77", Started: started, Updated: updated, Tables: []messages.TableProgress{loading, listing}}
	}
	load := &messages.LoadRecord{V: messages.Version, LoadID: "L2", Job: "j1", State: messages.LoadRunning, Started: started}
	lease := &messages.LeaseRecord{Job: "j1", Holder: "hostc-77-ab12", Host: "hostc", PID: 77, Acquired: started,
		Renewed: ago(3 * time.Second), LoadID: "L2"}
	workers := []messages.WorkerRecord{
		{ID: "w2", Job: "j1", Host: "h2", PID: 2, Slots: 2, Started: started, Updated: ago(time.Second),
			Holding: []messages.Holding{{LoadID: "L2", Table: "orders", Key: "orders/big.csv", Bytes: 12.5e6, Rows: 4567, Since: ago(12 * time.Second)}}},
		{ID: "w1", Job: "j1", Host: "h1", PID: 1, Slots: 1, Started: started, Updated: ago(2 * time.Second)},
		{ID: "w0", Job: "j1", Host: "h0", PID: 9, Slots: 1, Started: started, Updated: ago(10 * time.Minute)}, // gone
	}

	for _, tc := range []struct {
		name      string
		st        store
		stale     bool
		from      string
		workers   []string
		text      []string
		notInText []string
		rows      map[string]string // a table's row of the text, its fields separated by one space
	}{
		{
			name: "running", st: store{progress: running(ago(time.Second)), load: load, lease: lease, workers: workers},
			from: FromProgress, workers: []string{"w1", "w2"},
			text: []string{
				"job j1: load L2 running", "progress by coordinator hostc/77, updated 1s ago",
				"workers: 2 alive (1 gone", "w2 on h2 (pid 2, 2 slots)", "orders orders/big.csv: 12.5 MB, 4567 rows so far, for 12s",
				"w1 on h1 (pid 1, 1 slots), seen 2s ago, idle",
				"coordinator: hostc-77-ab12 on hostc (pid 77)", "renewed 3s ago",
			},
			notInText: []string{"STALE", "w0 on"},
			rows: map[string]string{
				"orders": "orders loading 120 18 100 2 0 0 123456 120.0/300.0 4.2 43s",
				"events": "events listing 40+ 40 0 0 0 0 0 0.0 - -",
			},
		},
		{
			name: "stale", st: store{progress: running(ago(40 * time.Second)), load: load},
			stale: true, from: FromProgress, workers: []string{},
			text:      []string{"STALE: coordinator not seen for 40s", "start one to resume it", "workers: 0 alive", "coordinator: none holds the job's lease"},
			notInText: []string{"progress by coordinator"},
		},
		{
			name: "just under stale", st: store{progress: running(ago(StaleAfter)), load: load},
			from: FromProgress, workers: []string{}, notInText: []string{"STALE"},
		},
		{
			name: "no load", st: store{}, workers: []string{},
			text: []string{"job j1: no load has ever run", "workers: 0 alive", "coordinator: none"},
		},
		{
			name: "failures shown", st: store{progress: func() *messages.ProgressRecord {
				p := running(ago(20 * time.Minute))
				p.State, p.Ended = messages.LoadIncomplete, ago(time.Minute)
				p.Tables[0].Phase, p.Tables[0].Error, p.Tables[0].Failed, p.Tables[0].InFlight = messages.PhaseFailed, "3 files failed, more than max_failed_files (0)", 3, 0
				return p
			}()},
			from: FromProgress, workers: []string{},
			rows: map[string]string{"orders": "orders failed 120 0 100 3 0 0 123456 120.0/300.0 4.2 -"},
			text: []string{"load L2 incomplete", "ended 2025-03-01 11:59:00Z (took 4m0s)",
				"orders: 3 files failed, more than max_failed_files (0)",
				"orders: orders/bad.csv failed after 1 attempt(s): line 7: column amount: not a number",
				"orders: ... and 2 more failed or changed files"},
			notInText: []string{"STALE", "43s"},
		},
		{
			name: "files of an ended load are no longer held", st: store{progress: func() *messages.ProgressRecord {
				p := running(ago(30 * time.Second))
				p.State, p.Ended = messages.LoadCompleted, ago(30*time.Second)
				return p
			}(), workers: []messages.WorkerRecord{{ID: "w3", Job: "j1", Host: "h3", Slots: 1, Updated: ago(40 * time.Second),
				Holding: []messages.Holding{{LoadID: "L2", Table: "orders", Key: "orders/done.csv", Since: ago(50 * time.Second)}}}}},
			from: FromProgress, workers: []string{"w3"},
			text: []string{"load L2 completed", "w3 on h3", "idle"}, notInText: []string{"orders/done.csv", "STALE"},
		},
		{
			name: "load record only", st: store{load: &messages.LoadRecord{LoadID: "L1", Job: "j1", State: messages.LoadCompleted,
				Started: ago(time.Hour), Ended: ago(50 * time.Minute), Tables: []messages.TableSummary{
					{Table: "orders", Committed: true, Files: 10, Loaded: 10, Rows: 1000, Bytes: 5e6}}}},
			from: FromLoad, workers: []string{},
			text: []string{"load L1 completed", "took 10m0s", "no progress record: the figures are the load record's summaries"},
			rows: map[string]string{"orders": "orders committed 10 0 10 0 0 0 1000 5.0 - -"},
		},
		{
			name: "progress of an older load", st: store{progress: func() *messages.ProgressRecord {
				p := running(ago(time.Hour))
				p.LoadID, p.State, p.Started = "L1", messages.LoadCompleted, ago(2*time.Hour)
				return p
			}(), load: load},
			from: FromLoad, workers: []string{},
			text: []string{"load L2 running", "no progress record"}, notInText: []string{"STALE", "orders"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap, err := Read(context.Background(), tc.st, "j1", now, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if snap.Stale != tc.stale || snap.From != tc.from {
				t.Errorf("stale %v from %q, want %v %q", snap.Stale, snap.From, tc.stale, tc.from)
			}
			var ids []string
			for _, w := range snap.Workers {
				ids = append(ids, w.ID)
			}
			if strings.Join(ids, ",") != strings.Join(tc.workers, ",") {
				t.Errorf("workers %v, want %v", ids, tc.workers)
			}
			var text bytes.Buffer
			if err := snap.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			t.Logf("\n%s", text.String())
			for _, want := range tc.text {
				if !strings.Contains(text.String(), want) {
					t.Errorf("text lacks %q", want)
				}
			}
			for table, want := range tc.rows {
				var got string
				for _, line := range strings.Split(text.String(), "\n") {
					if f := strings.Fields(line); len(f) > 1 && f[0] == table {
						got = strings.Join(f, " ")
						break
					}
				}
				if got != want {
					t.Errorf("row of %s: %q, want %q", table, got, want)
				}
			}
			for _, bad := range tc.notInText {
				if strings.Contains(text.String(), bad) {
					t.Errorf("text holds %q", bad)
				}
			}

			var js bytes.Buffer
			if err := snap.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(js.String(), "\n"); n != 1 {
				t.Errorf("JSON spans %d lines, want one", n)
			}
			var doc map[string]json.RawMessage
			if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			for _, key := range []string{"job", "progress", "workers", "coordinator", "stale"} {
				if _, ok := doc[key]; !ok {
					t.Errorf("JSON lacks %q: %s", key, js.String())
				}
			}
			var back Snapshot
			if err := json.Unmarshal(js.Bytes(), &back); err != nil {
				t.Fatal(err)
			}
			if (back.Progress == nil) != (snap.Progress == nil) || back.Stale != snap.Stale || len(back.Workers) != len(snap.Workers) {
				t.Errorf("JSON round trip differs: %s", js.String())
			}
		})
	}
}
