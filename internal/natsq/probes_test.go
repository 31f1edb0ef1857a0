package natsq

import (
	"context"
	"slices"
	"testing"

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
		recs, last, err := st.Probes(ctx, "l", "t", after)
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
