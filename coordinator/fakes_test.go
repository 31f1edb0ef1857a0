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
	probes  []messages.ProbeRecord
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

type anyRecord interface {
	messages.LoadRecord | messages.TableRecord | messages.FileRecord | messages.LeaseRecord
}

func getRec[T anyRecord](s *outageState, key string) (T, uint64, error) {
	var zero T
	d, rev, err := s.get(key)
	if err != nil {
		return zero, 0, err
	}
	rec, err := messages.Unmarshal[T](d)
	return rec, rev, err
}

func putRec[T anyRecord](s *outageState, key string, rec T, rev uint64) (uint64, error) {
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
// of them again after each change: await must cope with repeats. Records
// that disappear are sent as deletions.
func (s *outageState) WatchFiles(ctx context.Context, load, table string, fn func(FileEvent) error) error {
	prefix := fileKey(load, table, "")
	current := false
	sent := map[string]bool{}
	for {
		s.mu.Lock()
		var evs []FileEvent
		now := map[string]bool{}
		for k, d := range s.data {
			if strings.HasPrefix(k, prefix) {
				rec, err := messages.Unmarshal[messages.FileRecord](d)
				if err != nil {
					s.mu.Unlock()
					return err
				}
				token := strings.TrimPrefix(k, prefix)
				now[token] = true
				evs = append(evs, FileEvent{Record: rec, Revision: s.revs[k], Token: token, Current: current})
			}
		}
		for token := range sent {
			if !now[token] {
				evs = append(evs, FileEvent{Token: token, Deleted: true, Current: current})
			}
		}
		sent = now
		changed := s.changed
		s.mu.Unlock()
		for _, ev := range evs {
			if err := fn(ev); err != nil {
				return err
			}
		}
		if !current {
			current = true
			if err := fn(FileEvent{Current: true}); err != nil {
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

// Probes returns the probe records a test's queue wrote with putProbe
// after the after'th (revisions count the records from 1); with none, it
// waits up to wait for the next.
func (s *outageState) Probes(ctx context.Context, load, table string, after uint64, wait time.Duration) ([]messages.ProbeRecord, uint64, error) {
	s.mu.Lock()
	out, last, changed := s.probesSince(load, table, after), uint64(len(s.probes)), s.changed
	s.mu.Unlock()
	if len(out) > 0 || wait <= 0 {
		return out, last, nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return nil, after, ctx.Err()
	case <-t.C:
	case <-changed:
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.probesSince(load, table, after), uint64(len(s.probes)), nil
}

func (s *outageState) probesSince(load, table string, after uint64) []messages.ProbeRecord {
	var out []messages.ProbeRecord
	for i, r := range s.probes {
		if uint64(i) >= after && r.LoadID == load && r.Table == table {
			out = append(out, r)
		}
	}
	return out
}

func (s *outageState) putProbe(rec messages.ProbeRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.probes = append(s.probes, rec)
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *outageState) Files(ctx context.Context, load, table string) ([]messages.FileRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []messages.FileRecord
	prefix := fileKey(load, table, "")
	for k, d := range s.data {
		if strings.HasPrefix(k, prefix) {
			rec, err := messages.Unmarshal[messages.FileRecord](d)
			if err != nil {
				return nil, err
			}
			out = append(out, rec)
		}
	}
	return out, nil
}

func (s *outageState) del(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.data, key)
	delete(s.revs, key)
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *outageState) DeleteFile(_ context.Context, load, table, token string) error {
	s.del(fileKey(load, table, token))
	return nil
}

func (s *outageState) Ensure(context.Context) (time.Time, error) { return time.Time{}, nil }

func (s *outageState) DropLoad(_ context.Context, load string) error {
	s.mu.Lock()
	var keys []string
	for k := range s.data {
		if strings.HasPrefix(k, "file."+load+".") || strings.HasPrefix(k, "table."+load+".") {
			keys = append(keys, k)
		}
	}
	s.mu.Unlock()
	for _, k := range keys {
		s.del(k)
	}
	return nil
}

func (s *outageState) Lease(_ context.Context, job string) (messages.LeaseRecord, uint64, error) {
	return getRec[messages.LeaseRecord](s, "lease."+job)
}

func (s *outageState) PutLease(_ context.Context, rec messages.LeaseRecord, rev uint64) (uint64, error) {
	return putRec(s, "lease."+rec.Job, rec, rev)
}

func (s *outageState) DeleteLease(_ context.Context, job string, rev uint64) error {
	s.mu.Lock()
	cur := s.revs["lease."+job]
	s.mu.Unlock()
	if cur != rev {
		return messages.ErrConflict
	}
	s.del("lease." + job)
	return nil
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

func (loadingQueue) Ensure(context.Context) (time.Time, error)    { return time.Time{}, nil }
func (loadingQueue) Backlog(context.Context, string) (int, error) { return 0, nil }

type pageLister []messages.Source

// List returns the files under prefix in one page.
func (l pageLister) List(_ context.Context, _, prefix, startAfter string, fn func([]messages.Source) error) error {
	var page []messages.Source
	for _, s := range l {
		if strings.HasPrefix(s.Key, prefix) {
			page = append(page, s)
		}
	}
	if startAfter != "" || len(page) == 0 {
		return nil
	}
	return fn(page)
}

func (pageLister) IsPermanent(err error) bool { return errors.Is(err, errDenied) }

// errDenied is a permanent error of the fake store.
var errDenied = errors.New("access denied")

// noProber is the prober of tables whose schema is declared: every file
// fits it.
type noProber struct{}

func (noProber) ProbeSchema(context.Context, string, messages.Source) ([]byte, error) {
	return []byte("probed"), nil
}

// firstMerger decides a table's schema the simple way: the declared one,
// or else the first file's; every file fits it.
type firstMerger struct{}

func (firstMerger) MergeSchemas(_ context.Context, _ string, declared []byte, groups []SchemaGroup) (MergedSchema, error) {
	m := MergedSchema{Schema: declared, Misfits: make([]string, len(groups))}
	if m.Schema == nil && len(groups) > 0 {
		m.Schema = groups[0].Schema
	}
	return m, nil
}

type countingCommitter struct {
	loaded []messages.FileRecord
	schema []byte
}

func (*countingCommitter) IsPermanent(error) bool { return false }

func (*countingCommitter) Prepare(context.Context, PrepareRequest) (Prepared, error) {
	return Prepared{}, nil
}

func (c *countingCommitter) Commit(_ context.Context, req CommitRequest) (CommitResult, error) {
	c.loaded, c.schema = req.Loaded, req.Schema
	var rows int64
	for _, f := range req.Loaded {
		rows += f.Rows
	}
	return CommitResult{Manifest: messages.Manifest{Table: req.Table, LoadID: req.LoadID, Rows: rows}}, nil
}

// ports builds the coordinator's ports on the fakes.
func ports(l Lister, p Prober, st *outageState, com Committer) Ports {
	return Ports{Lister: l, Prober: p, Merger: firstMerger{}, Queue: loadingQueue{st}, State: st, Leases: st, Committer: com}
}

// memHistory is an in-memory HistoryStore: each load's last entry, in the
// order loads first appeared.
type memHistory struct {
	mu    sync.Mutex
	order []string
	recs  map[string]messages.LoadRecord
}

func (h *memHistory) PutHistory(_ context.Context, rec messages.LoadRecord) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.recs == nil {
		h.recs = map[string]messages.LoadRecord{}
	}
	if _, ok := h.recs[rec.LoadID]; !ok {
		h.order = append(h.order, rec.LoadID)
	}
	h.recs[rec.LoadID] = rec
	return nil
}

func (h *memHistory) entries() []messages.LoadRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]messages.LoadRecord, len(h.order))
	for i, id := range h.order {
		out[i] = h.recs[id]
	}
	return out
}

// runCommitted runs a coordinator of cfg on p for at most a minute and
// fails the test unless every table committed.
func runCommitted(t *testing.T, cfg Config, p Ports) Report {
	t.Helper()
	c, err := New(cfg, p)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := c.Run(ctx)
	if err != nil || !rep.OK() {
		t.Fatalf("run: %+v, %v", rep, err)
	}
	return rep
}
