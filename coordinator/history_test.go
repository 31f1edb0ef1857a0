package coordinator

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/s3load/s3load/messages"
)

// snapshotCommitter commits like countingCommitter and names a snapshot
// per commit, as a table format does.
type snapshotCommitter struct {
	countingCommitter
	n int
}

func (c *snapshotCommitter) Commit(ctx context.Context, req CommitRequest) (CommitResult, error) {
	r, err := c.countingCommitter.Commit(ctx, req)
	c.n++
	r.Snapshot = fmt.Sprintf("snap-%d", c.n)
	return r, err
}

// TestHistoryRecordedOnClose: every load that ends is kept in the history
// with its tables' outcome (the state store keeps only the last), and a
// load given up for a full reload is kept as abandoned.
func TestHistoryRecordedOnClose(t *testing.T) {
	st := newOutageState(false)
	var files pageLister
	for i := range 3 {
		files = append(files, messages.Source{Bucket: "b", Key: fmt.Sprintf("t/%d.csv", i), ETag: "e", Size: 100})
	}
	hist := &memHistory{}
	p := ports(files, noProber{}, st, &snapshotCommitter{})
	p.History = hist
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var reports []Report
	for range 2 {
		c, err := New(Config{Job: "j", Bucket: "b", Tables: []Table{{Name: "t", Prefix: "t/", Schema: []byte("s")}}}, p)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := c.Run(ctx)
		if err != nil || !rep.OK() {
			t.Fatalf("run: %v %+v", err, rep)
		}
		reports = append(reports, rep)
	}
	got := hist.entries()
	if len(got) != 2 {
		t.Fatalf("history holds %d loads, want 2: %+v", len(got), got)
	}
	for i, rec := range got {
		want := reports[i].Tables[0]
		if rec.LoadID != reports[i].LoadID || rec.State != messages.LoadCompleted || rec.Ended.IsZero() || len(rec.Tables) != 1 {
			t.Fatalf("history entry %d: %+v, want load %s completed with one table", i, rec, reports[i].LoadID)
		}
		if ts := rec.Tables[0]; !ts.Committed || ts.Rows != want.Rows || ts.Files != want.Files || ts.Snapshot != want.Snapshot || ts.Snapshot == "" {
			t.Errorf("history entry %d table: %+v, want the report's %+v", i, ts, want)
		}
	}
}

// TestHistoryKeepsSnapshotOfEarlierRun: a load finished later keeps the
// snapshot of a table its earlier run committed.
func TestHistoryKeepsSnapshotOfEarlierRun(t *testing.T) {
	now := []messages.TableSummary{{Table: "a", Committed: true}, {Table: "b", Committed: true, Snapshot: "2"}, {Table: "c"}}
	keepSnapshots(now, []messages.TableSummary{{Table: "a", Committed: true, Snapshot: "1"}, {Table: "b", Committed: true, Snapshot: "0"}, {Table: "c", Snapshot: "x"}})
	if now[0].Snapshot != "1" || now[1].Snapshot != "2" || now[2].Snapshot != "" {
		t.Fatalf("snapshots %+v: want a's from the earlier run, b's own, none for uncommitted c", now)
	}
}
