package natsq

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/s3load/s3load/messages"
)

// stateBlockBytes is the size of the state bucket's stream on disk.
func stateBlockBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	blocks, err := filepath.Glob(filepath.Join(dir, "jetstream", "$G", "streams", "KV_"+StateBucket, "msgs", "*.blk"))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range blocks {
		fi, err := os.Stat(b)
		if err != nil {
			t.Fatal(err)
		}
		n += fi.Size()
	}
	return n
}

// Loads that end leave the state bucket's stream as small on disk as
// their few lasting records need. A job's history, written among each
// load's file records, used to keep a block of them on disk per load; so
// would the marker each deleted record leaves (a worker's, a lease's).
func TestEndedLoadsFreeTheStateStore(t *testing.T) {
	dir := t.TempDir()
	js, stop := startJetStream(t, dir)
	t.Cleanup(stop)
	ctx := context.Background()
	_, st := openOn(t, js, Options{DeleteMarkerAge: -1})
	const loads, files = 8, 20000
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for l := range loads {
		load := start.Add(time.Duration(l)*time.Hour).Format("20060102T150405Z") + "-abcdef"
		recs := make([]messages.FileRecord, files)
		for i := range recs {
			recs[i] = messages.FileRecord{LoadID: load, Table: "t", State: messages.StateListed,
				Source: messages.Source{Bucket: "b", Key: fmt.Sprintf("data/part-%06d.csv", i), ETag: "0123456789abcdef0123456789abcdef", Size: 1000}}
		}
		if _, err := st.CreateFiles(ctx, recs); err != nil {
			t.Fatal(err)
		}
		// A worker process of its own and the coordinator's lease, each
		// deleted when done, as in a fleet.
		worker := fmt.Sprintf("host-%d", l)
		if err := st.PutWorker(ctx, messages.WorkerRecord{ID: worker, Job: "j"}); err != nil {
			t.Fatal(err)
		}
		rev, err := st.PutLease(ctx, messages.LeaseRecord{Job: "j"}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.PutHistory(ctx, messages.LoadRecord{LoadID: load, Job: "j", State: messages.LoadCompleted}); err != nil {
			t.Fatal(err)
		}
		if err := st.DeleteWorker(ctx, "j", worker); err != nil {
			t.Fatal(err)
		}
		if err := st.DeleteLease(ctx, "j", rev); err != nil {
			t.Fatal(err)
		}
		if err := st.DropLoad(ctx, load); err != nil {
			t.Fatal(err)
		}
	}
	// One load's file records take 3.6 MB; kept in blocks pinned by the
	// history, 8 loads took 33 MB.
	if got := stateBlockBytes(t, dir); got > 1<<20 {
		t.Errorf("after %d ended loads the state bucket holds %d bytes on disk, want under 1 MB", loads, got)
	}
}
