package coordinator

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s3load/s3load/messages"
)

// errLostReply is what a client sees when its write reached the store but
// the reply did not come back: a NATS leader election mid-request.
var errLostReply = fmt.Errorf("writing: %w", context.DeadlineExceeded)

// outageState is an in-memory StateStore with compare-and-set revisions.
// With lossy set, every other write lands but reports errLostReply and
// every other read fails, as a replicated store does while it elects a
// leader. The real store is exercised by the NATS cluster e2e case; this
// fake makes the timing deterministic.
type outageState struct {
	mu      sync.Mutex
	lossy   bool
	calls   int
	seq     uint64
	data    map[string][]byte
	revs    map[string]uint64
	changed chan struct{}
}

func newOutageState(lossy bool) *outageState {
	return &outageState{lossy: lossy, data: map[string][]byte{}, revs: map[string]uint64{}, changed: make(chan struct{})}
}

// flaky reports whether this call is one that the outage hits.
func (s *outageState) flaky() bool {
	s.calls++
	return s.lossy && s.calls%2 == 1
}

func (s *outageState) get(key string) ([]byte, uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.flaky() {
		return nil, 0, fmt.Errorf("reading %s: %w", key, context.DeadlineExceeded)
	}
	d, ok := s.data[key]
	if !ok {
		return nil, 0, fmt.Errorf("reading %s: %w", key, messages.ErrNotFound)
	}
	return d, s.revs[key], nil
}

func (s *outageState) put(key string, d []byte, rev uint64, mayLose bool) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.revs[key] != rev {
		return 0, fmt.Errorf("writing %s: %w", key, messages.ErrConflict)
	}
	s.seq++
	s.data[key], s.revs[key] = d, s.seq
	close(s.changed)
	s.changed = make(chan struct{})
	if mayLose && s.flaky() {
		return 0, errLostReply
	}
	return s.seq, nil
}

func getRec[T messages.LoadRecord | messages.TableRecord | messages.FileRecord](s *outageState, key string) (T, uint64, error) {
	var zero T
	d, rev, err := s.get(key)
	if err != nil {
		return zero, 0, err
	}
	rec, err := messages.Unmarshal[T](d)
	return rec, rev, err
}

func putRec[T messages.LoadRecord | messages.TableRecord | messages.FileRecord](s *outageState, key string, rec T, rev uint64) (uint64, error) {
	d, err := messages.Marshal(rec)
	if err != nil {
		return 0, err
	}
	return s.put(key, d, rev, true)
}

func fileKey(load, table, token string) string { return "file." + load + "." + table + "." + token }

func (s *outageState) Load(_ context.Context, job string) (messages.LoadRecord, uint64, error) {
	return getRec[messages.LoadRecord](s, "job."+job)
}
func (s *outageState) PutLoad(_ context.Context, rec messages.LoadRecord, rev uint64) (uint64, error) {
	return putRec(s, "job."+rec.Job, rec, rev)
}
func (s *outageState) Table(_ context.Context, load, table string) (messages.TableRecord, uint64, error) {
	return getRec[messages.TableRecord](s, "table."+load+"."+table)
}
func (s *outageState) PutTable(_ context.Context, rec messages.TableRecord, rev uint64) (uint64, error) {
	return putRec(s, "table."+rec.LoadID+"."+rec.Table, rec, rev)
}
func (s *outageState) File(_ context.Context, load, table, token string) (messages.FileRecord, uint64, error) {
	return getRec[messages.FileRecord](s, fileKey(load, table, token))
}
func (s *outageState) PutFile(_ context.Context, rec messages.FileRecord, rev uint64) (uint64, error) {
	return putRec(s, fileKey(rec.LoadID, rec.Table, rec.Token()), rec, rev)
}

// CreateFiles lands every record, and in an outage still reports a lost
// reply: the coordinator's retry must find them created.
func (s *outageState) CreateFiles(_ context.Context, recs []messages.FileRecord) ([]uint64, error) {
	revs := make([]uint64, len(recs))
	for i, rec := range recs {
		d, err := messages.Marshal(rec)
		if err != nil {
			return nil, err
		}
		rev, err := s.put(fileKey(rec.LoadID, rec.Table, rec.Token()), d, 0, false)
		if err != nil && !errors.Is(err, messages.ErrConflict) {
			return nil, err
		}
		revs[i] = rev
	}
	s.mu.Lock()
	lost := s.flaky()
	s.mu.Unlock()
	if lost {
		return nil, errLostReply
	}
	return revs, nil
}

// WatchFiles sends every record of the table, the end marker, and then all
// of them again after each change: await must cope with repeats.
func (s *outageState) WatchFiles(ctx context.Context, load, table string, fn func(messages.FileRecord, bool) error) error {
	prefix := fileKey(load, table, "")
	current := false
	for {
		s.mu.Lock()
		var recs []messages.FileRecord
		for k, d := range s.data {
			if strings.HasPrefix(k, prefix) {
				rec, err := messages.Unmarshal[messages.FileRecord](d)
				if err != nil {
					s.mu.Unlock()
					return err
				}
				recs = append(recs, rec)
			}
		}
		changed := s.changed
		s.mu.Unlock()
		for _, rec := range recs {
			if err := fn(rec, current); err != nil {
				return err
			}
		}
		if !current {
			current = true
			if err := fn(messages.FileRecord{}, true); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

// loadingQueue plays the workers: every published file is recorded loaded
// into its task's part at once.
type loadingQueue struct{ st *outageState }

func (q loadingQueue) Publish(_ context.Context, tasks ...messages.Task) error {
	for _, task := range tasks {
		for _, f := range task.Files {
			rec := messages.FileRecord{LoadID: task.LoadID, Table: task.Table, Source: f.Source, Range: f.Range,
				State: messages.StateLoaded, Part: "part-" + task.ID, PartFiles: len(task.Files), Rows: 10, Bytes: f.Source.Size}
			d, err := messages.Marshal(rec)
			if err != nil {
				return err
			}
			// The task carries the revision its record was created at.
			if _, err := q.st.put(fileKey(task.LoadID, task.Table, rec.Token()), d, f.Revision, false); err != nil {
				return err
			}
		}
	}
	return nil
}

type pageLister []messages.Source

func (l pageLister) List(_ context.Context, _, _, startAfter string, fn func([]messages.Source) error) error {
	if startAfter != "" {
		return nil
	}
	return fn(l)
}

type noProber struct{}

func (noProber) ProbeSchema(context.Context, string, messages.Source) ([]byte, error) {
	return nil, errors.New("the table's schema is declared")
}

type countingCommitter struct{ loaded []messages.FileRecord }

func (c *countingCommitter) Commit(_ context.Context, req CommitRequest) (messages.Manifest, error) {
	c.loaded = req.Loaded
	var rows int64
	for _, f := range req.Loaded {
		rows += f.Rows
	}
	return messages.Manifest{Table: req.Table, LoadID: req.LoadID, Rows: rows}, nil
}

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
				files, noProber{}, loadingQueue{st}, st, com)
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
			if err != nil || load.State != messages.LoadCompleted {
				t.Fatalf("load record %+v (%v): want completed", load, err)
			}
			tbl, _, err := st.Table(ctx, load.LoadID, "t")
			if err != nil || !tbl.Committed {
				t.Fatalf("table record %+v (%v): want committed", tbl, err)
			}
		})
	}
}

// TestPutRetriedStillFencesOtherWriters: reading back after a lost reply
// must not turn another writer's record into our success.
func TestPutRetriedStillFencesOtherWriters(t *testing.T) {
	st := newOutageState(false)
	c, err := New(Config{Job: "j", Bucket: "b", Tables: []Table{{Name: "t"}}}, pageLister{}, noProber{}, loadingQueue{st}, st, &countingCommitter{})
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
