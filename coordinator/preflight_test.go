package coordinator

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/s3load/s3load/messages"
)

// probingQueue plays workers that take probe tasks (unless drop is set),
// recording their findings as a worker would; load tasks go to loadingQueue.
type probingQueue struct {
	loadingQueue
	drop bool

	mu     sync.Mutex
	tasks  int
	probed map[string]int
	ids    map[string][]string // each probe task's keys, if not nil
}

func (q *probingQueue) Publish(ctx context.Context, tasks ...messages.Task) error {
	var load []messages.Task
	for _, task := range tasks {
		if !task.Probe {
			load = append(load, task)
			continue
		}
		q.mu.Lock()
		q.tasks++
		if q.ids != nil {
			for _, f := range task.Files {
				q.ids[task.ID] = append(q.ids[task.ID], f.Source.Key)
			}
		}
		q.mu.Unlock()
		if q.drop {
			continue
		}
		rec := messages.ProbeRecord{LoadID: task.LoadID, Table: task.Table, Task: task.ID, Schemas: map[string][]byte{"s1": []byte("schema on a worker")}}
		for _, f := range task.Files {
			q.mu.Lock()
			q.probed[f.Source.Key]++
			q.mu.Unlock()
			rec.Results = append(rec.Results, messages.ProbeResult{Source: f.Source, Kind: messages.ProbeOK, Schema: "s1"})
		}
		q.st.putProbe(rec)
	}
	return q.loadingQueue.Publish(ctx, load...)
}

// countingProber counts the coordinator's own probes.
type countingProber struct {
	mu    sync.Mutex
	tries int
}

func (p *countingProber) ProbeSchema(context.Context, string, messages.Source) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tries++
	return []byte("schema here"), nil
}

// TestPreflightOnWorkers: a table of many files is probed by the workers,
// as probe tasks, each file once; when the workers stop answering, the
// coordinator probes the rest itself instead of waiting forever.
func TestPreflightOnWorkers(t *testing.T) {
	for _, drop := range []bool{false, true} {
		t.Run(fmt.Sprintf("workers_answer=%v", !drop), func(t *testing.T) {
			st := newOutageState(false)
			var files pageLister
			for i := range 150 {
				files = append(files, messages.Source{Bucket: "b", Key: fmt.Sprintf("t/%03d.csv", i), ETag: "e", Size: 10})
			}
			q := &probingQueue{loadingQueue: loadingQueue{st}, drop: drop, probed: map[string]int{}}
			here := &countingProber{}
			com := &countingCommitter{}
			p := ports(files, here, st, com)
			p.Queue = q
			rep := runCommitted(t, Config{Job: "j", Bucket: "b", Tables: []Table{{Name: "t", Prefix: "t/"}},
				ProbeLocalMax: 10, ProbeTaskFiles: 40, ProbeStall: 300 * time.Millisecond}, p)
			if q.tasks != 4 {
				t.Errorf("%d probe tasks, want 4 of at most 40 files", q.tasks)
			}
			pf := rep.Tables[0].Preflight
			if pf == nil || pf.Files != 150 || !pf.Distributed {
				t.Fatalf("pre-flight %+v, want 150 files probed on the workers", pf)
			}
			want := "schema on a worker"
			if drop {
				want = "schema here"
				if here.tries != 150 {
					t.Errorf("the coordinator probed %d files itself, want all 150", here.tries)
				}
			} else {
				if here.tries != 0 {
					t.Errorf("the coordinator probed %d files itself, want none", here.tries)
				}
				for k, n := range q.probed {
					if n != 1 {
						t.Errorf("%s probed %d times", k, n)
					}
				}
			}
			if string(com.schema) != want {
				t.Errorf("committed schema %q, want %q", com.schema, want)
			}
		})
	}
}

// throttledLister serves pages of 10 keys, and every request is refused
// after its first page, as a store throttling its listing does.
type throttledLister struct {
	keys  []messages.Source
	mu    sync.Mutex
	calls int
	from  []string // the startAfter of each call
}

func (l *throttledLister) List(_ context.Context, _, _, startAfter string, fn func([]messages.Source) error) error {
	l.mu.Lock()
	l.calls++
	l.from = append(l.from, startAfter)
	l.mu.Unlock()
	i := 0
	for i < len(l.keys) && l.keys[i].Key <= startAfter {
		i++
	}
	for first := true; i < len(l.keys); first = false {
		if !first {
			return fmt.Errorf("listing: SlowDown")
		}
		end := min(i+10, len(l.keys))
		if err := fn(l.keys[i:end]); err != nil {
			return err
		}
		i = end
	}
	return nil
}

func (*throttledLister) IsPermanent(error) bool { return false }

// TestPreflightListingResumes: a pre-flight listing the store keeps
// interrupting resumes after the last page it handled: every file once,
// and no page listed twice.
func TestPreflightListingResumes(t *testing.T) {
	l := &throttledLister{}
	for i := range 45 {
		l.keys = append(l.keys, messages.Source{Bucket: "b", Key: fmt.Sprintf("t/%02d.csv", i), ETag: "e", Size: 10})
	}
	prober := &countingProber{}
	table := Table{Name: "t", Prefix: "t/"}
	c, err := New(Config{Job: "j", Bucket: "b", Tables: []Table{table}, RetryFor: time.Minute}, ports(l, prober, newOutageState(false), &countingCommitter{}))
	if err != nil {
		t.Fatal(err)
	}
	_, pf, _, err := c.preflight(context.Background(), "l", table, c.cfg.Logger, nil)
	if err != nil {
		t.Fatal(err)
	}
	if pf.Files != 45 || prober.tries != 45 {
		t.Errorf("pre-flight of %d files, %d probes; want 45 of each", pf.Files, prober.tries)
	}
	if fmt.Sprint(l.from) != "[ t/09.csv t/19.csv t/29.csv t/39.csv]" {
		t.Errorf("listings started after %q; want each page once, resumed after the last one handled", l.from)
	}
}

// onceFailingCommitter refuses the first commit for good, then commits.
type onceFailingCommitter struct {
	countingCommitter
	failed bool
}

func (c *onceFailingCommitter) IsPermanent(error) bool { return true }

func (c *onceFailingCommitter) Commit(ctx context.Context, req CommitRequest) (CommitResult, error) {
	if !c.failed {
		c.failed = true
		return CommitResult{}, fmt.Errorf("the catalog refused the commit")
	}
	return c.countingCommitter.Commit(ctx, req)
}

// TestResumedLoadDoesNotProbeAgain: the pre-flight's result is stored with
// the load, so the run that finishes a load reads no file's schema again.
func TestResumedLoadDoesNotProbeAgain(t *testing.T) {
	st := newOutageState(false)
	files := pageLister{{Bucket: "b", Key: "t/0.csv", ETag: "e", Size: 10}, {Bucket: "b", Key: "t/1.csv", ETag: "e", Size: 10}}
	com := &onceFailingCommitter{}
	cfg := Config{Job: "j", Bucket: "b", Tables: []Table{{Name: "t", Prefix: "t/"}}, RetryFor: time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	first := &countingProber{}
	c, err := New(cfg, ports(files, first, st, com))
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := c.Run(ctx); err != nil || rep.OK() {
		t.Fatalf("first run: %+v, %v; want the table not committed", rep, err)
	}
	again := &countingProber{}
	c, err = New(cfg, ports(files, again, st, com))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := c.Run(ctx)
	if err != nil || !rep.OK() {
		t.Fatalf("second run: %+v, %v; want the load finished", rep, err)
	}
	if first.tries != 2 || again.tries != 0 {
		t.Errorf("probes: %d in the first run, %d in the resumed one; want 2 and 0", first.tries, again.tries)
	}
	if string(com.schema) != "schema here" || rep.Tables[0].Preflight == nil || rep.Tables[0].Preflight.Files != 2 {
		t.Errorf("resumed load committed schema %q with pre-flight %+v; want the first run's", com.schema, rep.Tables[0].Preflight)
	}
}

// failingMerger refuses every merge, as a columns: override naming no
// file's column does.
type failingMerger struct{}

func (failingMerger) MergeSchemas(context.Context, string, []byte, []SchemaGroup) (MergedSchema, error) {
	return MergedSchema{}, fmt.Errorf(`columns: "amout" is not a column of any file`)
}

// TestMergeErrorEndsTheTableAtOnce: a merge that fails is the config's or
// the files' doing; the table fails at once, saying why, and is not
// retried for the retry budget.
func TestMergeErrorEndsTheTableAtOnce(t *testing.T) {
	st := newOutageState(false)
	files := pageLister{{Bucket: "b", Key: "t/0.csv", ETag: "e", Size: 10}}
	p := ports(files, &countingProber{}, st, &countingCommitter{})
	p.Merger = failingMerger{}
	c, err := New(Config{Job: "j", Bucket: "b", Tables: []Table{{Name: "t", Prefix: "t/"}}, RetryFor: time.Hour}, p)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rep, err := c.Run(ctx)
	if err != nil || rep.OK() || !strings.Contains(rep.Tables[0].Error, `"amout" is not a column`) {
		t.Fatalf("run: %+v, %v; want the table failed naming the merge's error", rep.Tables, err)
	}
}

// TestListRanges: a listing cut into ranges lists every key once, in
// order, each range stopping at its end; splits that match no key, or fall
// between pages, change nothing. A range the store interrupts resumes
// after its last page (once, as each interruption costs a retry's wait).
func TestListRanges(t *testing.T) {
	var sources []messages.Source
	var want []string
	for i := range 95 {
		k := fmt.Sprintf("t/%02d.csv", i)
		sources = append(sources, messages.Source{Bucket: "b", Key: k, ETag: "e", Size: 10})
		want = append(want, k)
	}
	table := Table{Name: "t", Prefix: "t/"}
	for _, c := range []struct {
		name   string
		keys   int
		lister Lister
		splits [][]string
	}{
		{"paged", 95, &pagingLister{keys: sources, size: 10}, [][]string{nil, {"t/30.csv"}, {"t/09.csv", "t/45.csv", "t/77.csv"}, {"t/30.csva", "t/31.csv"}, {"t/19.csv", "t/39.csv"}, {"t/19.csvz"}, {"t/09.csv", "t/94.csv"}}},
		{"interrupted", 25, &throttledLister{keys: sources[:25]}, [][]string{{"t/14.csv"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			co, err := New(Config{Job: "j", Bucket: "b", Tables: []Table{table}, RetryFor: time.Minute}, ports(c.lister, &countingProber{}, newOutageState(false), &countingCommitter{}))
			if err != nil {
				t.Fatal(err)
			}
			for _, splits := range c.splits {
				pages, err := listAll(co, table, splits)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, p := range pages {
					for _, s := range p {
						got = append(got, s.Key)
					}
				}
				if !slices.Equal(got, want[:c.keys]) {
					t.Errorf("splits %v: listed %v, want every key once in order", splits, got)
				}
			}
		})
	}
}

// listSplits cuts a committed load's keys into ranges of whole pages, at
// most ListRangesMax, each split the last key of its range's last page.
func TestListSplits(t *testing.T) {
	keys := func(n int) []string {
		out := make([]string, n)
		for i := range n {
			out[i] = fmt.Sprintf("k%06d", n-1-i) // unsorted
		}
		return out
	}
	for _, c := range []struct {
		n     int
		want  int // splits
		first string
	}{{0, 0, ""}, {1000, 0, ""}, {1001, 1, "k000999"}, {4000, 3, "k000999"}, {10_000, ListRangesMax - 1, "k000999"}, {1_000_000, ListRangesMax - 1, "k124999"}} {
		splits := listSplits(keys(c.n))
		if len(splits) != c.want || !slices.IsSorted(splits) {
			t.Errorf("%d keys: %d splits %v, want %d, sorted", c.n, len(splits), splits[:min(len(splits), 3)], c.want)
		}
		if len(splits) > 0 && splits[0] != c.first {
			t.Errorf("%d keys: first split %s, want %s", c.n, splits[0], c.first)
		}
		for _, s := range splits {
			if i, _ := strconv.Atoi(s[1:]); (i+1)%ListPageKeys != 0 {
				t.Errorf("%d keys: split %s does not end a page", c.n, s)
			}
		}
	}
	// A split file's ranges share a key: counted once.
	twice := append(keys(1500), keys(1500)...)
	if got := listSplits(twice); len(got) != 1 || got[0] != "k000999" {
		t.Errorf("1,500 keys, each twice: splits %v, want [k000999]", got)
	}
}

// pagingLister serves keys in pages of size, and counts its requests (an
// empty listing is one request too).
type pagingLister struct {
	keys     []messages.Source
	size     int
	requests atomic.Int64
}

func (l *pagingLister) List(_ context.Context, _, _, startAfter string, fn func([]messages.Source) error) error {
	i, _ := slices.BinarySearchFunc(l.keys, startAfter, func(s messages.Source, k string) int { return strings.Compare(s.Key, k) })
	for i < len(l.keys) && l.keys[i].Key <= startAfter {
		i++
	}
	for first := true; first || i < len(l.keys); first = false {
		l.requests.Add(1)
		end := min(i+l.size, len(l.keys))
		if end > i {
			if err := fn(l.keys[i:end]); err != nil {
				return err
			}
		}
		i = end
	}
	return nil
}

func (*pagingLister) IsPermanent(error) bool { return false }

// The plan's count of LIST requests is what listRangesTo asks the store for,
// with ranges ending inside a page, on a page's last key (listed, or not),
// or past the last key.
func TestListRequestsCountsListRanges(t *testing.T) {
	l := &pagingLister{size: 10}
	var keys []string
	for i := range 95 {
		k := fmt.Sprintf("t/%02d.csv", i)
		keys = append(keys, k)
		l.keys = append(l.keys, messages.Source{Bucket: "b", Key: k, ETag: "e", Size: 10})
	}
	table := Table{Name: "t", Prefix: "t/"}
	c, err := New(Config{Job: "j", Bucket: "b", Tables: []Table{table}, RetryFor: time.Minute}, ports(l, &countingProber{}, newOutageState(false), &countingCommitter{}))
	if err != nil {
		t.Fatal(err)
	}
	for _, splits := range [][]string{nil, {"t/30.csv"}, {"t/09.csv", "t/45.csv", "t/77.csv"}, {"t/19.csv", "t/39.csv"}, {"t/30.csva", "t/31.csv"}, {"t/94.csv"}, {"t/99.csv"}, {"t/19.csvz"}, {"t/09.csv", "t/94.csv"}} {
		l.requests.Store(0)
		if _, err := listAll(c, table, splits); err != nil {
			t.Fatal(err)
		}
		if got, want := listRequests(keys, splits, l.size), int(l.requests.Load()); got != want {
			t.Errorf("splits %v: listRequests says %d, the listing made %d", splits, got, want)
		}
	}
	// Ranges cut where pages end (as listSplits cuts) ask for each page once.
	l.requests.Store(0)
	if _, err := listAll(c, table, []string{"t/19.csv", "t/39.csv", "t/49.csv"}); err != nil {
		t.Fatal(err)
	}
	if got := l.requests.Load(); got != 10 {
		t.Errorf("95 keys cut on page ends: %d requests, want 10 (one a page)", got)
	}
}

// listAll lists t cut at splits through a live listing and returns its
// pages in the order it handed them on.
func listAll(c *Coordinator, t Table, splits []string) ([][]messages.Source, error) {
	ctx := context.Background()
	l := c.startListing(ctx, t, func(context.Context) []string { return splits })
	defer l.stop()
	pages := [][]messages.Source{}
	for {
		page, ok, err := l.next(ctx)
		if err != nil || !ok {
			return pages, err
		}
		pages = append(pages, page)
	}
}
