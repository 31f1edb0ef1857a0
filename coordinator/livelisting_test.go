package coordinator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/s3load/s3load/messages"
)

// heldLister is a pagingLister whose listing of the first range (from the
// table's start) waits for release before its first page.
type heldLister struct {
	pagingLister
	release chan struct{}
}

func (l *heldLister) List(ctx context.Context, bucket, prefix, startAfter string, fn func([]messages.Source) error) error {
	if startAfter == "" {
		select {
		case <-l.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return l.pagingLister.List(ctx, bucket, prefix, startAfter, fn)
}

// A live listing hands its pages on in key order, though its ranges are
// listed at once and a later one ends first: nothing of a later range
// comes before every page of the earlier ones.
func TestLiveListingInKeyOrder(t *testing.T) {
	var keys []messages.Source
	var want []string
	for i := range 95 {
		k := fmt.Sprintf("t/%02d.csv", i)
		keys, want = append(keys, messages.Source{Bucket: "b", Key: k, ETag: "e", Size: 1}), append(want, k)
	}
	lister := &heldLister{pagingLister: pagingLister{keys: keys, size: 10}, release: make(chan struct{})}
	table := Table{Name: "t", Prefix: "t/"}
	co, err := New(Config{Job: "j", Bucket: "b", Tables: []Table{table}, RetryFor: time.Minute},
		ports(lister, &countingProber{}, newOutageState(false), &countingCommitter{}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l := co.startListing(ctx, table, func(context.Context) []string { return []string{"t/29.csv", "t/60.csv"} })
	defer l.stop()

	// The later ranges end while the first waits.
	for ended := false; !ended; {
		l.mu.Lock()
		ended = l.ranges != nil && l.ranges[1].done && l.ranges[2].done
		l.mu.Unlock()
		if !ended {
			select {
			case <-ctx.Done():
				t.Fatal("the later ranges were not listed while the first waited")
			case <-time.After(time.Millisecond):
			}
		}
	}
	short, stop := context.WithTimeout(ctx, 50*time.Millisecond)
	page, ok, err := l.next(short)
	stop()
	if ok || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("next gave a page (%d keys from %q) before the first range was listed", len(page), page[0].Key)
	}

	close(lister.release)
	var got []string
	for {
		page, ok, err := l.next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		for _, s := range page {
			got = append(got, s.Key)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages gave %q, want every key once in order", got)
	}
	if ranges, took := l.stats(); ranges != 3 || took <= 0 {
		t.Errorf("stats: %d ranges in %v, want 3 and the time taken", ranges, took)
	}
}

// gatedLister serves pages of 10 keys, and holds the page starting at
// hold until published says probe tasks were published, or a deadline
// passes (noted in waitedInVain).
type gatedLister struct {
	pagingLister
	hold      string
	published func() bool

	mu           sync.Mutex
	waitedInVain bool
}

func (l *gatedLister) List(ctx context.Context, bucket, prefix, startAfter string, fn func([]messages.Source) error) error {
	return l.pagingLister.List(ctx, bucket, prefix, startAfter, func(page []messages.Source) error {
		if page[0].Key == l.hold {
			deadline := time.Now().Add(5 * time.Second)
			for !l.published() && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			l.mu.Lock()
			l.waitedInVain = !l.published()
			l.mu.Unlock()
		}
		return fn(page)
	})
}

// TestPreflightProbesWhileListing: the workers get a table's first probe
// tasks while the rest of it is still being listed, and the tasks are
// those a pre-flight after the listing would publish: every file once, in
// tasks of ProbeTaskFiles consecutive keys.
func TestPreflightProbesWhileListing(t *testing.T) {
	st := newOutageState(false)
	var keys []messages.Source
	for i := range 150 {
		keys = append(keys, messages.Source{Bucket: "b", Key: fmt.Sprintf("t/%03d.csv", i), ETag: "e", Size: 10})
	}
	q := &probingQueue{loadingQueue: loadingQueue{st}, probed: map[string]int{}, ids: map[string][]string{}}
	lister := &gatedLister{pagingLister: pagingLister{keys: keys, size: 10}, hold: "t/100.csv"}
	lister.published = func() bool {
		q.mu.Lock()
		defer q.mu.Unlock()
		return q.tasks > 0
	}
	here := &countingProber{}
	p := ports(lister, here, st, &countingCommitter{})
	p.Queue = q
	runCommitted(t, Config{Job: "j", Bucket: "b", Tables: []Table{{Name: "t", Prefix: "t/"}},
		ProbeLocalMax: 10, ProbeTaskFiles: 40, ProbeStall: time.Minute}, p)
	if lister.waitedInVain {
		t.Error("no probe task was published before the listing reached t/100.csv: the pre-flight waited for the whole listing")
	}
	if here.tries != 0 {
		t.Errorf("the coordinator probed %d files itself, want none", here.tries)
	}
	if len(q.probed) != len(keys) {
		t.Errorf("%d files probed, want %d", len(q.probed), len(keys))
	}
	for k, n := range q.probed {
		if n != 1 {
			t.Errorf("%s probed %d times", k, n)
		}
	}
	var ids []string
	for id, files := range q.ids {
		ids = append(ids, id)
		var n int
		if _, err := fmt.Sscanf(id[len(id)-6:], "%d", &n); err != nil {
			t.Fatalf("probe task %q: %v", id, err)
		}
		want := []string{}
		for i := n * 40; i < min(n*40+40, len(keys)); i++ {
			want = append(want, keys[i].Key)
		}
		if !slices.Equal(files, want) {
			t.Errorf("probe task %s holds %q, want %q", id, files, want)
		}
	}
	if len(ids) != 4 {
		t.Errorf("probe tasks %q, want 4", ids)
	}
}

// oldSchemaMerger says the files known from the committed load (the group
// of schema "old") no longer fit the others.
type oldSchemaMerger struct{}

func (oldSchemaMerger) MergeSchemas(_ context.Context, _ string, _ []byte, groups []SchemaGroup) (MergedSchema, error) {
	m := MergedSchema{Misfits: make([]string, len(groups))}
	for i, g := range groups {
		if string(g.Schema) == "old" {
			m.Misfits[i] = "another schema"
		} else if m.Schema == nil {
			m.Schema = g.Schema
		}
	}
	return m, nil
}

// dedupQueue is a probingQueue that drops a task whose ID it has seen, as
// JetStream does within its duplicate window.
type dedupQueue struct {
	*probingQueue
	seen map[string]bool
}

func (q *dedupQueue) Publish(ctx context.Context, tasks ...messages.Task) error {
	var fresh []messages.Task
	for _, task := range tasks {
		if !q.seen[task.ID] {
			q.seen[task.ID] = true
			fresh = append(fresh, task)
		}
	}
	return q.probingQueue.Publish(ctx, fresh...)
}

// When the files known from the committed load no longer fit, the
// pre-flight reads every file again on the workers, in tasks the queue does
// not take for the first round's: no file waits for ProbeStall to be
// probed by the coordinator itself.
func TestPreflightReadsKnownFilesAgainOnWorkers(t *testing.T) {
	st := newOutageState(false)
	var keys pageLister
	known := &knownFiles{schema: []byte("old"), ids: map[objectVersion]bool{}}
	for i := range 150 {
		src := messages.Source{Bucket: "b", Key: fmt.Sprintf("t/%03d.csv", i), ETag: "e", Size: 10}
		keys = append(keys, src)
		if i < 100 {
			known.ids[versionOf(src)] = true
			known.keys = append(known.keys, src.Key)
		}
	}
	q := &dedupQueue{probingQueue: &probingQueue{loadingQueue: loadingQueue{st}, probed: map[string]int{}}, seen: map[string]bool{}}
	here := &countingProber{}
	p := ports(keys, here, st, &countingCommitter{})
	p.Queue, p.Merger = q, oldSchemaMerger{}
	table := Table{Name: "t", Prefix: "t/"}
	c, err := New(Config{Job: "j", Bucket: "b", Tables: []Table{table}, ProbeLocalMax: 10, ProbeTaskFiles: 40, ProbeStall: time.Minute}, p)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	schema, pf, _, err := c.preflight(ctx, "l", table, c.cfg.Logger, known)
	if err != nil {
		t.Fatalf("pre-flight: %v (a stalled probe task ends it at the test's deadline)", err)
	}
	if string(schema) != "schema on a worker" || pf.Files != len(keys) {
		t.Errorf("schema %q from %d files, want the workers' from all %d", schema, pf.Files, len(keys))
	}
	if here.tries != 0 {
		t.Errorf("the coordinator probed %d files itself, want none", here.tries)
	}
	if len(q.probed) != len(keys) {
		t.Errorf("the workers probed %d files, want all %d", len(q.probed), len(keys))
	}
}

// earlyProbes holds no files while the coordinator would probe the table
// itself, and from the page that makes it the workers' holds only the
// files not yet in a task.
func TestEarlyProbesHoldOnlyWhatIsNotPublished(t *testing.T) {
	for _, tc := range []struct {
		name       string
		localMax   int
		wantHeld   []int // after each page of 10 files
		wantTasks  []int
		wantFirsts []string // each task's first key
	}{
		{"spread over the workers", 15, []int{0, 20, 30, 0, 10}, []int{0, 0, 0, 1, 1}, []string{"t/00.csv"}},
		{"probed here", 1 << 30, []int{0, 0, 0, 0, 0}, []int{0, 0, 0, 0, 0}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := &probingQueue{loadingQueue: loadingQueue{newOutageState(false)}, probed: map[string]int{}, ids: map[string][]string{}}
			p := ports(pageLister{}, &countingProber{}, newOutageState(false), &countingCommitter{})
			p.Queue = q
			table := Table{Name: "t", Prefix: "t/"}
			c, err := New(Config{Job: "j", Bucket: "b", Tables: []Table{table}, ProbeLocalMax: tc.localMax, ProbeTaskFiles: 40}, p)
			if err != nil {
				t.Fatal(err)
			}
			e := earlyProbes{tasks: &probeTasks{c: c, load: "l", t: table}}
			var pages [][]messages.Source
			for n := range 5 {
				var page []messages.Source
				for i := range 10 {
					page = append(page, messages.Source{Bucket: "b", Key: fmt.Sprintf("t/%02d.csv", n*10+i), ETag: "e", Size: 1})
				}
				pages = append(pages, page)
				if err := e.add(context.Background(), pages); err != nil {
					t.Fatal(err)
				}
				if len(e.pending) != tc.wantHeld[n] || e.tasks.published != tc.wantTasks[n] {
					t.Errorf("after page %d: %d files held, %d tasks; want %d and %d", n, len(e.pending), e.tasks.published, tc.wantHeld[n], tc.wantTasks[n])
				}
			}
			var firsts []string
			for _, files := range q.ids {
				firsts = append(firsts, files[0])
			}
			if !slices.Equal(firsts, tc.wantFirsts) {
				t.Errorf("tasks start at %q, want %q", firsts, tc.wantFirsts)
			}
		})
	}
}
