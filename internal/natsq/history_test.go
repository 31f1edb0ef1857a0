package natsq

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

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

// History entries an older version wrote in the state bucket are read, and
// moved to the history bucket when the job next writes its history.
func TestHistoryMovesEntriesOutOfTheStateBucket(t *testing.T) {
	_, st := connect(t, Options{})
	ctx := context.Background()
	for _, id := range []string{"20260101T000000Z-aaaaaa", "20260102T000000Z-bbbbbb"} {
		data, err := messages.Marshal(messages.LoadRecord{LoadID: id, Job: "j", State: messages.LoadCompleted})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.do(ctx, func(kv jetstream.KeyValue) error { _, err := kv.Put(ctx, historyPrefix("j")+id, data); return err }); err != nil {
			t.Fatal(err)
		}
	}
	ids := func() []string {
		t.Helper()
		got, err := st.History(ctx, "j")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range got {
			out = append(out, r.LoadID)
		}
		return out
	}
	if got := ids(); !slices.Equal(got, []string{"20260102T000000Z-bbbbbb", "20260101T000000Z-aaaaaa"}) {
		t.Fatalf("history before any new entry: %v", got)
	}
	if err := st.PutHistory(ctx, messages.LoadRecord{LoadID: "20260103T000000Z-cccccc", Job: "j", State: messages.LoadCompleted}); err != nil {
		t.Fatal(err)
	}
	if got := ids(); !slices.Equal(got, []string{"20260103T000000Z-cccccc", "20260102T000000Z-bbbbbb", "20260101T000000Z-aaaaaa"}) {
		t.Fatalf("history after a new entry: %v", got)
	}
	if left, err := collect[messages.LoadRecord](ctx, st, historyPrefix("j")+"*"); err != nil || len(left) != 0 {
		t.Fatalf("the state bucket still holds %d history entries (%v)", len(left), err)
	}
}
