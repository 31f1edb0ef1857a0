package natsq

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/s3load/s3load/messages"
)

// TestHistoryKeepsLastLoads: a job's history holds its last HistoryKeep
// loads, newest first, one entry per load (a load finished later replaces
// its entry), and no other job's.
func TestHistoryKeepsLastLoads(t *testing.T) {
	_, st := connect(t, Options{})
	ctx := context.Background()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	id := func(i int) string {
		return start.Add(time.Duration(i)*time.Minute).Format("20060102T150405Z") + "-abcdef"
	}
	for i := range HistoryKeep + 5 {
		rec := messages.LoadRecord{LoadID: id(i), Job: "j", State: messages.LoadIncomplete,
			Tables: []messages.TableSummary{{Table: "t", Rows: int64(i)}}}
		if err := st.PutHistory(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	last := messages.LoadRecord{LoadID: id(HistoryKeep + 4), Job: "j", State: messages.LoadCompleted,
		Tables: []messages.TableSummary{{Table: "t", Committed: true, Snapshot: "42"}}}
	if err := st.PutHistory(ctx, last); err != nil {
		t.Fatal(err)
	}
	if err := st.PutHistory(ctx, messages.LoadRecord{LoadID: id(0), Job: "other"}); err != nil {
		t.Fatal(err)
	}
	got, err := st.History(ctx, "j")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != HistoryKeep {
		t.Fatalf("history holds %d loads, want %d", len(got), HistoryKeep)
	}
	for i, rec := range got {
		if want := id(HistoryKeep + 4 - i); rec.LoadID != want || rec.Job != "j" {
			t.Fatalf("entry %d is load %s of job %s, want %s of j (newest first)", i, rec.LoadID, rec.Job, want)
		}
	}
	if got[0].State != messages.LoadCompleted || got[0].Tables[0].Snapshot != "42" {
		t.Fatalf("newest entry %+v: want the load's last record", got[0])
	}
}

// TestHistoryLookupStateWithoutBucket: a reader finds no state bucket
// instead of creating one.
func TestHistoryLookupStateWithoutBucket(t *testing.T) {
	ctx := context.Background()
	js := embeddedJetStream(t)
	if _, err := LookupState(ctx, js, Options{}); !errors.Is(err, messages.ErrNotFound) {
		t.Fatalf("LookupState without a bucket: %v, want ErrNotFound", err)
	}
	if _, err := OpenState(ctx, js, Options{}); err != nil {
		t.Fatal(err)
	}
	st, err := LookupState(ctx, js, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := st.History(ctx, "j"); err != nil || len(got) != 0 {
		t.Fatalf("history of a job with none: %v %v", got, err)
	}
}
