package coordinator

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/s3load/s3load/messages"
)

// dropAfterListing is a state store whose DropLoad finishes only once the
// table has been listed: a load that waits for the drop before it lists
// never ends.
type dropAfterListing struct {
	*outageState
	listed  chan struct{}
	dropped chan string
}

func (s dropAfterListing) DropLoad(ctx context.Context, load string) error {
	select {
	case <-s.listed:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.dropped <- load
	return s.outageState.DropLoad(ctx, load)
}

// listingSignal closes listed on its first page.
type listingSignal struct {
	pageLister
	once   sync.Once
	listed chan struct{}
}

func (l *listingSignal) List(ctx context.Context, bucket, prefix, startAfter string, fn func([]messages.Source) error) error {
	l.once.Do(func() { close(l.listed) })
	return l.pageLister.List(ctx, bucket, prefix, startAfter, fn)
}

// TestLastLoadDroppedWhileTheNextRuns: dropping the ended load's records
// (a read of the whole state bucket) runs beside the next load, not before
// it, and is done when Run returns.
func TestLastLoadDroppedWhileTheNextRuns(t *testing.T) {
	st := newOutageState(false)
	var files pageLister
	for i := range 3 {
		files = append(files, messages.Source{Bucket: "b", Key: fmt.Sprintf("t/%d.csv", i), ETag: "e", Size: 100})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg := Config{Job: "j", Bucket: "b", Tables: []Table{{Name: "t", Prefix: "t/", Schema: []byte("s")}}}
	first, err := New(cfg, ports(files, noProber{}, st, &countingCommitter{}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Run(ctx); err != nil {
		t.Fatal(err)
	}
	ended, _, err := st.Load(ctx, "j")
	if err != nil {
		t.Fatal(err)
	}

	listed := make(chan struct{})
	slow := dropAfterListing{outageState: st, listed: listed, dropped: make(chan string, 1)}
	p := ports(&listingSignal{pageLister: files, listed: listed}, noProber{}, st, &countingCommitter{})
	p.State = slow
	next, err := New(cfg, p)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := next.Run(ctx)
	if err != nil {
		t.Fatalf("the next load, its drop waiting for its listing: %v", err)
	}
	if !rep.OK() {
		t.Fatalf("report %+v: want the table committed", rep)
	}
	select {
	case load := <-slow.dropped:
		if load != ended.LoadID {
			t.Fatalf("dropped load %s, want the ended %s", load, ended.LoadID)
		}
	default:
		t.Fatal("Run returned before the ended load was dropped")
	}
	if recs, _ := st.Files(ctx, ended.LoadID, "t"); len(recs) != 0 {
		t.Fatalf("the ended load's %d file records are still there", len(recs))
	}
}
