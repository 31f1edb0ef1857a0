package coordinator

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s3load/s3load/messages"
)

// startsLister records where each listing request starts and says when
// the first one is made.
type startsLister struct {
	*pagingLister
	once   sync.Once
	listed chan struct{}
	mu     sync.Mutex
	starts []string
}

func (l *startsLister) List(ctx context.Context, bucket, prefix, startAfter string, fn func([]messages.Source) error) error {
	l.once.Do(func() { close(l.listed) })
	l.mu.Lock()
	l.starts = append(l.starts, startAfter)
	l.mu.Unlock()
	return l.pagingLister.List(ctx, bucket, prefix, startAfter, fn)
}

// listFirstReuser has no committed load, and tells so only once the
// table's listing has begun.
type listFirstReuser struct {
	fakeReuser
	listed chan struct{}
}

func (r listFirstReuser) PreviousLoad(ctx context.Context, _ string) (PreviousLoad, error) {
	select {
	case <-r.listed:
		return PreviousLoad{}, nil
	case <-ctx.Done():
		return PreviousLoad{}, ctx.Err()
	}
}

type fixedSplits []string

func (s fixedSplits) ListSplits(context.Context, string) ([]string, error) { return s, nil }

// splitsCommitter keeps the splits a commit was asked to store.
type splitsCommitter struct {
	countingCommitter
	splits []string
}

func (c *splitsCommitter) Commit(ctx context.Context, req CommitRequest) (CommitResult, error) {
	c.splits = req.ListSplits
	return c.countingCommitter.Commit(ctx, req)
}

// A new load lists its table from the start of the table's run, cut where
// the SplitsReader says, without waiting for the read of the committed
// load (which here waits for the listing); splits out of order cost only
// the ranges. The commit stores the splits for the next load.
func TestListingGoesAheadOfTheCommittedLoad(t *testing.T) {
	const keys = 2500
	var sources []messages.Source
	for i := range keys {
		sources = append(sources, messages.Source{Bucket: "b", Key: fmt.Sprintf("t/%04d.csv", i), ETag: "e", Size: 10})
	}
	for _, c := range []struct {
		name       string
		splits     fixedSplits
		wantStarts []string
	}{
		{"splits", fixedSplits{"t/0999.csv", "t/1999.csv"}, []string{"", "t/0999.csv", "t/1999.csv"}},
		{"none", nil, []string{""}},
		{"out of order", fixedSplits{"t/1999.csv", "t/0999.csv"}, []string{""}},
		// Cuts of a prefix the table no longer has: every key is listed still.
		{"another prefix's", fixedSplits{"old/1.csv", "u/1.csv"}, []string{"", "old/1.csv", "u/1.csv"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			lister := &startsLister{pagingLister: &pagingLister{keys: sources, size: ListPageKeys}, listed: make(chan struct{})}
			com := &splitsCommitter{}
			p := ports(lister, noProber{}, newOutageState(false), com)
			p.Reuse, p.Splits = listFirstReuser{listed: lister.listed}, c.splits
			// Probed here, not on workers: the fakes have none.
			co, err := New(Config{Job: "j", Bucket: "b", Tables: []Table{{Name: "t", Prefix: "t/", Schema: []byte("s")}}, ProbeLocalMax: keys}, p)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := co.Run(ctx)
			if err != nil {
				t.Fatalf("the load, its committed load read only once the listing began: %v", err)
			}
			if !rep.OK() || rep.Tables[0].Files != keys {
				t.Fatalf("report %+v: want the table committed with %d files", rep.Tables[0], keys)
			}
			lister.mu.Lock()
			starts := slices.Sorted(slices.Values(lister.starts))
			lister.mu.Unlock()
			if !slices.Equal(starts, c.wantStarts) {
				t.Errorf("listing requests started after %q, want %q", starts, c.wantStarts)
			}
			if want := []string{"t/0999.csv", "t/1999.csv"}; !slices.Equal(com.splits, want) {
				t.Errorf("the commit stores splits %q, want %q", com.splits, want)
			}
		})
	}
}

// deniedLister refuses every listing, as a wrong key does.
type deniedLister struct{ pageLister }

func (deniedLister) List(context.Context, string, string, string, func([]messages.Source) error) error {
	return errDenied
}

// A listing started ahead that the store refuses for good ends the table
// at once, saying it was the listing, as a listing in turn would.
func TestListingAheadRefused(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := ports(deniedLister{}, noProber{}, newOutageState(false), &countingCommitter{})
	p.Reuse, p.Splits = fakeReuser{}, fixedSplits{"t/1.csv"}
	co, err := New(Config{Job: "j", Bucket: "b", Tables: []Table{{Name: "t", Prefix: "t/", Schema: []byte("s")}}, RetryFor: time.Hour}, p)
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	rep, err := co.Run(ctx)
	if err == nil && rep.OK() {
		t.Fatal("a load whose listing is refused committed")
	}
	if got := rep.Tables[0].Error; !strings.Contains(got, "listing for the pre-flight") || !strings.Contains(got, errDenied.Error()) {
		t.Errorf("the table's error %q does not say the listing was refused", got)
	}
	if took := time.Since(started); took > 5*time.Second {
		t.Errorf("a refused listing took %v to end the load (retry budget 1h): it was retried", took)
	}
}
