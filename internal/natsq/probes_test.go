package natsq

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/s3load/s3load/messages"
)

// TestProbesSince: each read returns the table's probe records stored
// since the revision the last read returned, a task rewritten by a
// redelivery included, and no other table's.
func TestProbesSince(t *testing.T) {
	_, st := connect(t, Options{})
	ctx := context.Background()
	put := func(table, task string) {
		t.Helper()
		if err := st.PutProbe(ctx, messages.ProbeRecord{LoadID: "l", Table: table, Task: task}); err != nil {
			t.Fatal(err)
		}
	}
	read := func(after uint64, want ...string) uint64 {
		t.Helper()
		recs, last, err := st.Probes(ctx, "l", "t", after, 0)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range recs {
			got = append(got, r.Task)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("read after %d: %v, want %v", after, got, want)
		}
		if len(want) == 0 && last != after {
			t.Fatalf("an empty read after %d returned revision %d", after, last)
		}
		return last
	}
	last := read(0)
	put("t", "a")
	put("other", "x")
	put("t", "b")
	last = read(last, "a", "b")
	last = read(last)
	put("t", "c")
	put("t", "a") // a redelivered task writes its findings again
	last = read(last, "c", "a")
	read(last)
	read(0, "b", "c", "a") // from the start: each task's latest
}

// TestProbesWaitsForTheNext: a read that finds nothing new waits for the
// next record stored and returns it, or returns nothing once wait is up.
func TestProbesWaitsForTheNext(t *testing.T) {
	_, st := connect(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := st.PutProbe(ctx, messages.ProbeRecord{LoadID: "l", Table: "t", Task: "a"}); err != nil {
		t.Fatal(err)
	}
	_, last, err := st.Probes(ctx, "l", "t", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	recs, after, err := st.Probes(ctx, "l", "t", last, 10*time.Millisecond)
	if err != nil || len(recs) != 0 || after != last {
		t.Fatalf("nothing new within the wait: %d records, revision %d (%v); want none, %d", len(recs), after, err, last)
	}
	type read struct {
		recs []messages.ProbeRecord
		err  error
	}
	got := make(chan read, 1)
	go func() { // owned by the test: it waits for the result below.
		// Longer than the test's deadline: only the record ends it in time.
		recs, _, err := st.Probes(ctx, "l", "t", last, 2*time.Minute)
		got <- read{recs, err}
	}()
	if err := st.PutProbe(ctx, messages.ProbeRecord{LoadID: "l", Table: "other", Task: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutProbe(ctx, messages.ProbeRecord{LoadID: "l", Table: "t", Task: "b"}); err != nil {
		t.Fatal(err)
	}
	r := <-got
	if r.err != nil || len(r.recs) != 1 || r.recs[0].Task != "b" {
		t.Fatalf("waiting read: %+v (%v), want task b's record", r.recs, r.err)
	}
}
