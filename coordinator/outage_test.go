package coordinator

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/s3load/s3load/messages"
)

// TestRunRidesOutStoreOutage: with every other state read failing and every
// other write landing without its reply, a load still lists, commits and
// closes. A retried write that meets its own landed write is success, not
// a conflict (the NATS-cluster e2e case died on exactly that).
func TestRunRidesOutStoreOutage(t *testing.T) {
	for _, lossy := range []bool{false, true} {
		t.Run(fmt.Sprintf("lossy=%v", lossy), func(t *testing.T) {
			st := newOutageState(lossy)
			var files pageLister
			for i := range 5 {
				files = append(files, messages.Source{Bucket: "b", Key: fmt.Sprintf("t/%d.csv", i), ETag: "e", Size: 100})
			}
			com := &countingCommitter{}
			c, err := New(Config{Job: "j", Bucket: "b", BatchFiles: 2, Tables: []Table{{Name: "t", Prefix: "t/", Schema: []byte("s")}}},
				ports(files, noProber{}, st, com))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			rep, err := c.Run(ctx)
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			if !rep.OK() || rep.Tables[0].Rows != 50 || len(com.loaded) != 5 {
				t.Fatalf("report %+v, %d files committed; want the table committed with 5 files and 50 rows", rep, len(com.loaded))
			}
			st.lossy = false
			load, _, err := st.Load(ctx, "j")
			if err != nil || load.State != messages.LoadCompleted || len(load.Tables) != 1 || !load.Tables[0].Committed {
				t.Fatalf("load record %+v (%v): want completed, its table committed", load, err)
			}
			if files, _ := st.Files(ctx, load.LoadID, "t"); len(files) != 5 {
				t.Fatalf("the completed load kept %d file records, want its 5 until the next load", len(files))
			}
			// The next load drops the last one's records.
			if _, err := c.Run(ctx); err != nil {
				t.Fatal(err)
			}
			if files, _ := st.Files(ctx, load.LoadID, "t"); len(files) != 0 {
				t.Fatalf("the next load left %d records of the last one", len(files))
			}
		})
	}
}

// TestPutRetriedStillFencesOtherWriters: reading back after a lost reply
// must not turn another writer's record into our success.
func TestPutRetriedStillFencesOtherWriters(t *testing.T) {
	st := newOutageState(false)
	c, err := New(Config{Job: "j", Bucket: "b", Tables: []Table{{Name: "t"}}}, ports(pageLister{}, noProber{}, st, &countingCommitter{}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	theirs := messages.TableRecord{LoadID: "l", Table: "t", Listed: true}
	ours := messages.TableRecord{LoadID: "l", Table: "t", Committed: true}
	tries := 0
	put := func(ctx context.Context, rec messages.TableRecord, rev uint64) (uint64, error) {
		tries++
		if tries == 1 {
			// Our first try is lost before it lands, and another writer
			// gets in before our retry.
			if _, err := st.PutTable(ctx, theirs, 0); err != nil {
				t.Fatal(err)
			}
			return 0, errLostReply
		}
		return st.PutTable(ctx, rec, rev)
	}
	get := func(ctx context.Context) (messages.TableRecord, uint64, error) { return st.Table(ctx, "l", "t") }
	if _, err := putRetried(ctx, c, "test", ours, 0, put, get); !errors.Is(err, messages.ErrConflict) {
		t.Fatalf("putRetried over another writer's record: %v, want ErrConflict", err)
	}
	if _, err := putRetried(ctx, c, "test", theirs, 0, st.PutTable, get); !errors.Is(err, messages.ErrConflict) {
		t.Fatalf("a first try that conflicts: %v, want ErrConflict (only a retry reads back)", err)
	}
}
