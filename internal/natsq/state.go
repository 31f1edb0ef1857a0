package natsq

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/messages"
)

// State keeps a job's durable records in one key-value bucket:
//
//	job.<job>                    the job's current load (messages.LoadRecord)
//	lease.<job>                  the coordinator lease of the job (messages.LeaseRecord)
//	worker.<job>.<worker>        a live worker of the job (messages.WorkerRecord)
//	table.<load>.<table>         one table of a load   (messages.TableRecord)
//	file.<load>.<table>.<token>  one listed file       (messages.FileRecord)
//	file.<load>.<table>.kept-<h> the files of a kept part (messages.KeptRecord)
//	probe.<load>.<table>.<task>  one probe task's findings (messages.ProbeRecord)
//
// and the jobs' history in a bucket of its own (HistoryBucket). Writes of load, table, file and lease records are compare-and-set on the
// revision they read, so two writers never silently overwrite each other.
// A bucket deleted under a running load is created again on the next
// operation; the coordinator notices its records are gone and restores them.
type State struct {
	js   jetstream.JetStream
	opts Options

	mu sync.Mutex
	kv jetstream.KeyValue
	// hist is the history bucket's handle, once opened; historyMoved the
	// jobs whose entries in the state bucket were moved to it.
	hist         jetstream.KeyValue
	historyMoved map[string]bool
}

// OpenState creates or opens the state bucket.
func OpenState(ctx context.Context, js jetstream.JetStream, opts Options) (*State, error) {
	s := &State{js: js, opts: opts.withDefaults()}
	if _, err := s.bucket(ctx, true); err != nil {
		return nil, err
	}
	return s, nil
}

// bucket returns the bucket's handle, (re)creating the bucket when asked.
func (s *State) bucket(ctx context.Context, open bool) (jetstream.KeyValue, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kv != nil && !open {
		return s.kv, nil
	}
	kv, err := openStateBucket(ctx, s.js, s.opts)
	if err != nil {
		return nil, fmt.Errorf("opening kv bucket %s: %w", StateBucket, err)
	}
	s.kv = kv
	return kv, nil
}

// openStateBucket creates the state bucket, or brings an existing one to
// stateStream's settings, and opens it. The stream is made here rather than
// by nats.go's CreateOrUpdateKeyValue, which has no option for either of
// the two settings stateStream changes.
func openStateBucket(ctx context.Context, js jetstream.JetStream, opts Options) (jetstream.KeyValue, error) {
	want := stateStream(opts)
	_, err := js.CreateStream(ctx, want)
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		// The server changes no stream's persist mode: a bucket keeps the
		// mode it was made with (an older s3load's, or a separate server's
		// default).
		var st jetstream.Stream
		if st, err = js.Stream(ctx, want.Name); err == nil {
			want.PersistMode = st.CachedInfo().Config.PersistMode
			_, err = js.UpdateStream(ctx, want)
		}
	}
	if err != nil {
		return nil, err
	}
	return js.KeyValue(ctx, StateBucket)
}

// stateStream is the state bucket's stream: what nats.go makes of
// KeyValueConfig{History: 1, Storage: FileStorage}, with the duplicate
// window narrowed to stateDuplicates and, under opts.AsyncPersist, the
// server's async persist mode.
func stateStream(opts Options) jetstream.StreamConfig {
	persist := jetstream.DefaultPersistMode
	if opts.AsyncPersist {
		persist = jetstream.AsyncPersistMode
	}
	return jetstream.StreamConfig{
		Name:              "KV_" + StateBucket,
		Description:       "s3load: durable state of loads, tables and files",
		Subjects:          []string{"$KV." + StateBucket + ".>"},
		Storage:           jetstream.FileStorage,
		Replicas:          max(opts.Replicas, 1),
		MaxMsgsPerSubject: 1,
		MaxMsgs:           -1,
		MaxBytes:          -1,
		MaxMsgSize:        -1,
		MaxConsumers:      -1,
		Discard:           jetstream.DiscardNew,
		AllowRollup:       true,
		DenyDelete:        true,
		AllowDirect:       true,
		Duplicates:        stateDuplicates,
		PersistMode:       persist,
	}
}

// stateDuplicates is the state bucket's duplicate window, the least the
// server takes. A key-value write carries no message id, so the window
// (nats.go makes it 2 minutes) dedupes nothing; yet a server that starts
// within it reads every message stored in it to rebuild its index of ids:
// ~60 ms of each start right after a load of 10,000 files.
const stateDuplicates = 100 * time.Millisecond

// Ensure checks that the bucket exists, creating it again if it was
// deleted, and returns its generation (the creation time of the stream
// under it): a new value means every record of the old bucket is gone.
func (s *State) Ensure(ctx context.Context) (time.Time, error) {
	st, err := s.js.Stream(ctx, "KV_"+StateBucket)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		if _, err = s.bucket(ctx, true); err != nil {
			return time.Time{}, err
		}
		st, err = s.js.Stream(ctx, "KV_"+StateBucket)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("checking kv bucket %s: %w", StateBucket, err)
	}
	return st.CachedInfo().Created, nil
}

// do runs op on the bucket, and once more on a bucket created again if the
// first try found it gone.
func (s *State) do(ctx context.Context, op func(kv jetstream.KeyValue) error) error {
	kv, err := s.bucket(ctx, false)
	if err != nil {
		return err
	}
	err = op(kv)
	if !bucketGone(err) {
		return err
	}
	if kv, err = s.bucket(ctx, true); err != nil {
		return err
	}
	return op(kv)
}

// bucketGone recognises the errors of an operation on a deleted bucket.
func bucketGone(err error) bool {
	return errors.Is(err, jetstream.ErrBucketNotFound) || errors.Is(err, jetstream.ErrStreamNotFound) ||
		errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, errReadStalled)
}

func jobKey(job string) string             { return "job." + job }
func leaseKey(job string) string           { return "lease." + job }
func workerPrefix(job string) string       { return "worker." + job + "." }
func tableKey(load, table string) string   { return "table." + load + "." + table }
func filePrefix(load, table string) string { return "file." + load + "." + table + "." }

// workerToken is a key-safe name for a worker ID (host names hold dots).
func workerToken(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:12])
}

// Load reads the job's current load record.
func (s *State) Load(ctx context.Context, job string) (messages.LoadRecord, uint64, error) {
	return get[messages.LoadRecord](ctx, s, jobKey(job))
}

// PutLoad writes the job's load record; rev 0 creates it.
func (s *State) PutLoad(ctx context.Context, rec messages.LoadRecord, rev uint64) (uint64, error) {
	return put(ctx, s, jobKey(rec.Job), rec, rev)
}

// Table reads a table's record in a load.
func (s *State) Table(ctx context.Context, load, table string) (messages.TableRecord, uint64, error) {
	return get[messages.TableRecord](ctx, s, tableKey(load, table))
}

// PutTable writes a table's record; rev 0 creates it.
func (s *State) PutTable(ctx context.Context, rec messages.TableRecord, rev uint64) (uint64, error) {
	return put(ctx, s, tableKey(rec.LoadID, rec.Table), rec, rev)
}

// File reads one file's record.
func (s *State) File(ctx context.Context, load, table, token string) (messages.FileRecord, uint64, error) {
	return get[messages.FileRecord](ctx, s, filePrefix(load, table)+token)
}

// PutFile writes one file's record; rev 0 creates it.
func (s *State) PutFile(ctx context.Context, rec messages.FileRecord, rev uint64) (uint64, error) {
	return put(ctx, s, filePrefix(rec.LoadID, rec.Table)+rec.Token(), rec, rev)
}

// DeleteFile removes one file's record (an object no longer listed when a
// load is finished later).
func (s *State) DeleteFile(ctx context.Context, load, table, token string) error {
	return s.do(ctx, func(kv jetstream.KeyValue) error {
		if err := kv.Purge(ctx, filePrefix(load, table)+token); err != nil {
			return fmt.Errorf("deleting %s%s: %w", filePrefix(load, table), token, err)
		}
		return nil
	})
}

// Lease reads the coordinator lease of job.
func (s *State) Lease(ctx context.Context, job string) (messages.LeaseRecord, uint64, error) {
	return get[messages.LeaseRecord](ctx, s, leaseKey(job))
}

// PutLease writes the lease of rec.Job over revision rev; rev 0 creates it.
func (s *State) PutLease(ctx context.Context, rec messages.LeaseRecord, rev uint64) (uint64, error) {
	return put(ctx, s, leaseKey(rec.Job), rec, rev)
}

// DeleteLease removes the lease of job if it is still at revision rev.
func (s *State) DeleteLease(ctx context.Context, job string, rev uint64) error {
	return s.do(ctx, func(kv jetstream.KeyValue) error {
		err := kv.Delete(ctx, leaseKey(job), jetstream.LastRevision(rev))
		if isConflict(err) {
			return fmt.Errorf("releasing lease of %s: %w", job, messages.ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("releasing lease of %s: %w", job, err)
		}
		return nil
	})
}

// Leases returns the coordinator leases of every job.
func (s *State) Leases(ctx context.Context) ([]messages.LeaseRecord, error) {
	return collect[messages.LeaseRecord](ctx, s, "lease.*")
}

// PutWorker announces a worker; the record has one writer, so it is
// simply overwritten.
func (s *State) PutWorker(ctx context.Context, rec messages.WorkerRecord) error {
	data, err := marshalSized(s, rec)
	if err != nil {
		return err
	}
	return s.do(ctx, func(kv jetstream.KeyValue) error {
		if _, err := kv.Put(ctx, workerPrefix(rec.Job)+workerToken(rec.ID), data); err != nil {
			return fmt.Errorf("announcing worker %s: %w", rec.ID, err)
		}
		return nil
	})
}

// Worker reads one worker's announcement.
func (s *State) Worker(ctx context.Context, job, id string) (messages.WorkerRecord, error) {
	rec, _, err := get[messages.WorkerRecord](ctx, s, workerPrefix(job)+workerToken(id))
	return rec, err
}

// DeleteWorker withdraws a worker's announcement.
func (s *State) DeleteWorker(ctx context.Context, job, id string) error {
	return s.do(ctx, func(kv jetstream.KeyValue) error {
		return kv.Purge(ctx, workerPrefix(job)+workerToken(id))
	})
}

// Workers returns the announcements of job's workers ("*": of every job);
// the caller judges their age.
func (s *State) Workers(ctx context.Context, job string) ([]messages.WorkerRecord, error) {
	return collect[messages.WorkerRecord](ctx, s, "worker."+job+".*")
}

// DropLoad purges every table and file record of a load that has ended:
// a job's bucket would otherwise grow by a record per file every run.
func (s *State) DropLoad(ctx context.Context, load string) error {
	stream, err := s.js.Stream(ctx, "KV_"+StateBucket)
	if err != nil {
		return fmt.Errorf("dropping records of load %s: %w", load, err)
	}
	for _, subject := range []string{"$KV." + StateBucket + ".file." + load + ".>", "$KV." + StateBucket + ".table." + load + ".>", "$KV." + StateBucket + ".probe." + load + ".>"} {
		if err := stream.Purge(ctx, jetstream.WithPurgeSubject(subject)); err != nil {
			return fmt.Errorf("dropping records of load %s: %w", load, err)
		}
	}
	// A deleted record leaves a marker (a worker that stopped, a released
	// lease), and a marker, like any record, keeps the block it was
	// written to on disk: a fleet's workers, each with its own record,
	// would leave one block per worker process. The load just dropped was
	// most of the bucket, so this read of it is small.
	err = s.do(ctx, func(kv jetstream.KeyValue) error {
		return kv.PurgeDeletes(ctx, jetstream.DeleteMarkersOlderThan(s.opts.DeleteMarkerAge))
	})
	if err != nil {
		return fmt.Errorf("dropping deletion markers: %w", err)
	}
	return nil
}

// CreateFiles creates the records of many files at once, pipelined: each
// is a publish to the bucket's subject that expects no earlier value, which
// is what a KV create is, sent without waiting for the one before. It
// returns each record's revision, or 0 where the record already existed.
func (s *State) CreateFiles(ctx context.Context, recs []messages.FileRecord) ([]uint64, error) {
	var revs []uint64
	err := s.do(ctx, func(jetstream.KeyValue) (err error) {
		revs, err = s.createFiles(ctx, recs)
		return err
	})
	return revs, err
}

func (s *State) createFiles(ctx context.Context, recs []messages.FileRecord) ([]uint64, error) {
	// A page's records are encoded into one buffer and share one header
	// (the publisher only reads it): per record, that spares a map, a
	// header and a copy of the encoding, a third of the allocations of
	// recording a million files.
	header := nats.Header{jetstream.ExpectedLastSubjSeqHeader: []string{"0"}}
	enc := recordEncoder{s: s}
	msgs := make([]nats.Msg, len(recs))
	var prefix, subject string // the last record's key prefix, and its subject's
	for i := range recs {
		rec := &recs[i]
		data, err := enc.encode(rec)
		if err != nil {
			return nil, fmt.Errorf("recording %s: %w", rec.Source, err)
		}
		if p := filePrefix(rec.LoadID, rec.Table); p != prefix {
			prefix, subject = p, "$KV."+StateBucket+"."+p
		}
		msgs[i] = nats.Msg{Subject: subject + rec.Token(), Data: data, Header: header}
	}
	return s.createPipelined(ctx, msgs, func(i int) string { return recs[i].Source.String() })
}

// createPipelined publishes msgs, each a create of a key of the state
// bucket (a publish to its subject expecting no earlier value), without
// waiting for one before the next, and returns each one's revision, or 0
// where the key was taken. name(i) names message i's record for errors.
func (s *State) createPipelined(ctx context.Context, msgs []nats.Msg, name func(i int) string) ([]uint64, error) {
	futures := make([]jetstream.PubAckFuture, len(msgs))
	for i := range msgs {
		var err error
		if futures[i], err = s.js.PublishMsgAsync(&msgs[i], jetstream.WithStallWait(publishStallWait)); err != nil {
			return nil, fmt.Errorf("recording %s: %w", name(i), err)
		}
	}
	revs := make([]uint64, len(msgs))
	var taken []int
	for i, f := range futures {
		select {
		case ack := <-f.Ok():
			revs[i] = ack.Sequence
		case err := <-f.Err():
			if !isWrongLastSequence(err) {
				return nil, fmt.Errorf("recording %s: %w", name(i), err)
			}
			taken = append(taken, i)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	// A key whose last entry is a deletion marker refuses the pipelined
	// create, yet is free: the bucket's own Create handles that case.
	for _, i := range taken {
		key := strings.TrimPrefix(msgs[i].Subject, "$KV."+StateBucket+".")
		err := s.do(ctx, func(kv jetstream.KeyValue) (err error) {
			revs[i], err = kv.Create(ctx, key, msgs[i].Data)
			return err
		})
		switch {
		case isConflict(err):
			revs[i] = 0
		case err != nil:
			return nil, fmt.Errorf("recording %s: %w", name(i), err)
		}
	}
	return revs, nil
}

// WatchFiles sends every file record of the table, first the current ones
// and then each change (deletions included), until ctx ends or fn fails.
func (s *State) WatchFiles(ctx context.Context, load, table string, fn func(coordinator.FileEvent) error) error {
	kv, err := s.bucket(ctx, false)
	if err != nil {
		return err
	}
	prefix := filePrefix(load, table)
	w, err := kv.Watch(ctx, prefix+"*")
	if bucketGone(err) {
		if kv, err = s.bucket(ctx, true); err == nil {
			w, err = kv.Watch(ctx, prefix+"*")
		}
	}
	if err != nil {
		return fmt.Errorf("watching files of %s: %w", table, err)
	}
	defer func() { _ = w.Stop() }()
	current := false
	// As a read's (readStall): a watch begun as the bucket goes never says
	// it has the current records, and its caller waits for that.
	stalled := time.NewTimer(readStall)
	defer stalled.Stop()
	set := newFileSet()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-stalled.C:
			return fmt.Errorf("watching files of %s: %w", table, errReadStalled)
		case e, ok := <-w.Updates():
			if !ok {
				return fmt.Errorf("watching files of %s: watcher closed", table)
			}
			if e == nil {
				current = true
				stalled.Stop()
				if err := set.flushUnkept(false, fn); err != nil {
					return err
				}
				if err := fn(coordinator.FileEvent{Current: true}); err != nil {
					return err
				}
				continue
			}
			op := e.Operation()
			deleted := op == jetstream.KeyValueDelete || op == jetstream.KeyValuePurge
			if err := set.apply(strings.TrimPrefix(e.Key(), prefix), e.Revision(), deleted, e.Value(), current, e.Delta() == 0, fn); err != nil {
				return fmt.Errorf("reading %s: %w", e.Key(), err)
			}
			if !current {
				stalled.Reset(readStall)
			}
		}
	}
}

// Files returns every file record of the table now, those a kept record
// stands for included (with Kept set).
func (s *State) Files(ctx context.Context, load, table string) ([]messages.FileRecord, error) {
	prefix := filePrefix(load, table)
	var out []messages.FileRecord
	err := s.do(ctx, func(kv jetstream.KeyValue) error {
		// In the order the store holds them, as a plain read of the keys.
		set, now, order := newFileSet(), map[string]messages.FileRecord{}, []string(nil)
		emit := func(ev coordinator.FileEvent) error {
			if ev.Deleted {
				delete(now, ev.Token)
				return nil
			}
			if _, ok := now[ev.Token]; !ok {
				order = append(order, ev.Token)
			}
			now[ev.Token] = ev.Record
			return nil
		}
		err := readCurrent(ctx, kv, prefix+"*", 0, func(e jetstream.KeyValueEntry) error {
			return set.apply(strings.TrimPrefix(e.Key(), prefix), e.Revision(), false, e.Value(), false, false, emit)
		})
		if err != nil {
			return err
		}
		out = make([]messages.FileRecord, 0, len(now))
		for _, t := range order {
			if r, ok := now[t]; ok {
				out = append(out, r)
				delete(now, t) // a token deleted and written again is in order twice
			}
		}
		return nil
	})
	return out, err
}

type record interface {
	messages.LoadRecord | messages.TableRecord | messages.FileRecord | messages.KeptRecord | messages.LeaseRecord | messages.WorkerRecord | messages.ProbeRecord | messages.ProgressRecord
}

// collect reads every record whose key matches pattern, as they are now.
func collect[T record](ctx context.Context, s *State, pattern string) ([]T, error) {
	out, _, err := collectSince[T](ctx, s, pattern, 0, 0)
	return out, err
}

// collectSince is collect of the records stored after revision after (0:
// all), and returns the last revision read (after if none).
func collectSince[T record](ctx context.Context, s *State, pattern string, after uint64, wait time.Duration) ([]T, uint64, error) {
	var out []T
	last := after
	err := s.do(ctx, func(kv jetstream.KeyValue) (err error) {
		out, last, err = collectFromSince[T](ctx, kv, pattern, after, wait)
		return err
	})
	return out, last, err
}

// collectFrom reads every record of bucket kv whose key matches pattern.
func collectFrom[T record](ctx context.Context, kv jetstream.KeyValue, pattern string) ([]T, error) {
	out, _, err := collectFromSince[T](ctx, kv, pattern, 0, 0)
	return out, err
}

func collectFromSince[T record](ctx context.Context, kv jetstream.KeyValue, pattern string, after uint64, wait time.Duration) ([]T, uint64, error) {
	var out []T
	last := after
	err := readCurrentOrNext(ctx, kv, pattern, after, wait, func(e jetstream.KeyValueEntry) error {
		rec, err := messages.Unmarshal[T](e.Value())
		if err != nil {
			return err
		}
		out = append(out, rec)
		last = max(last, e.Revision())
		return nil
	})
	if err != nil {
		return nil, after, err
	}
	return out, last, nil
}

// readCurrent calls fn with each current entry of bucket kv whose key
// matches pattern (stored after revision after, if not 0), deletions left
// out, and returns once it has had them all.
func readCurrent(ctx context.Context, kv jetstream.KeyValue, pattern string, after uint64, fn func(jetstream.KeyValueEntry) error) error {
	return readCurrentOrNext(ctx, kv, pattern, after, 0, fn)
}

// readStall bounds the wait for the next of the current entries of a read
// (and of WatchFiles' first look).
// They come back to back, so a read that waits this long is, but for a
// stalled server, on a bucket deleted under it and created again: the
// watch under it then follows the new bucket from the old one's last
// revision and never says it has them all. The read fails, State.do reads
// the bucket again, and a caller that retries retries.
const readStall = 5 * time.Second

// errReadStalled ends a read whose watch stopped short of the current entries.
var errReadStalled = fmt.Errorf("no entry for %s before the last (the bucket deleted under the read, or the server stalled)", readStall)

// readCurrentOrNext is readCurrent, but if there is no entry it waits up
// to wait for the next one stored, and returns once it has had that.
func readCurrentOrNext(ctx context.Context, kv jetstream.KeyValue, pattern string, after uint64, wait time.Duration, fn func(jetstream.KeyValueEntry) error) error {
	opts := []jetstream.WatchOpt{jetstream.IgnoreDeletes()}
	if after > 0 {
		opts = append(opts, jetstream.ResumeFromRevision(after+1))
	}
	w, err := kv.Watch(ctx, pattern, opts...)
	if err != nil {
		return fmt.Errorf("reading %s: %w", pattern, err)
	}
	defer func() { _ = w.Stop() }()
	// stalled runs while the current entries come, restarted after each
	// (fn's own time is not the watch's).
	stalled := time.NewTimer(readStall)
	defer stalled.Stop()
	var waited <-chan time.Time // set once the current entries are read
	got := false
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-stalled.C:
			return fmt.Errorf("reading %s: %w", pattern, errReadStalled)
		case <-waited:
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				return fmt.Errorf("reading %s: watcher closed", pattern)
			}
			if e == nil {
				stalled.Stop()
				if got || wait <= 0 {
					return nil
				}
				t := time.NewTimer(wait)
				defer t.Stop()
				waited = t.C
				continue
			}
			if err := fn(e); err != nil {
				return fmt.Errorf("reading %s: %w", e.Key(), err)
			}
			got = true
			if waited != nil {
				return nil // the one stored while waiting
			}
			stalled.Reset(readStall)
		}
	}
}

func get[T record](ctx context.Context, s *State, key string) (T, uint64, error) {
	var zero T
	var e jetstream.KeyValueEntry
	err := s.do(ctx, func(kv jetstream.KeyValue) (err error) {
		e, err = kv.Get(ctx, key)
		return err
	})
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return zero, 0, fmt.Errorf("reading %s: %w", key, messages.ErrNotFound)
	}
	if err != nil {
		return zero, 0, fmt.Errorf("reading %s: %w", key, err)
	}
	rec, err := messages.Unmarshal[T](e.Value())
	if err != nil {
		return zero, 0, fmt.Errorf("reading %s: %w", key, err)
	}
	return rec, e.Revision(), nil
}

// marshalSized encodes rec and refuses what the server would: a record
// over its max payload fails with messages.ErrTooLarge at once instead of
// being retried.
func marshalSized[T record](s *State, rec T) ([]byte, error) {
	data, err := messages.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("encoding %T: %w", rec, err)
	}
	return data, checkSize(s, rec, data)
}

// checkSize fails with messages.ErrTooLarge if data, rec encoded, is over
// the server's max payload.
func checkSize[T record](s *State, rec T, data []byte) error {
	if limit := s.js.Conn().MaxPayload(); limit > 0 && int64(len(data)) > limit {
		return fmt.Errorf("a %T of %d bytes is over the NATS server's max_payload of %d bytes (raise max_payload in the server's config): %w",
			rec, len(data), limit, messages.ErrTooLarge)
	}
	return nil
}

// recordEncoder encodes file records one after another into shared
// buffers, each record's bytes left untouched once returned (a publish
// keeps them until its ack, to send again).
type recordEncoder struct {
	s   *State
	buf bytes.Buffer
	enc *json.Encoder
	// rec is the record being encoded, stamped with the version: a copy
	// made here, not one per record (the encoder takes it as an
	// interface, so a local copy went to the heap: 300 MB of garbage
	// listing a million keys).
	rec messages.FileRecord
}

func (e *recordEncoder) encode(rec *messages.FileRecord) ([]byte, error) {
	if e.enc == nil || e.buf.Available() < 1024 {
		// A fresh buffer: the records already returned keep the old one.
		e.buf = bytes.Buffer{}
		e.buf.Grow(64 << 10)
		e.enc = json.NewEncoder(&e.buf)
	}
	e.rec = *rec
	e.rec.V = messages.Version // as messages.Marshal stamps it
	start := e.buf.Len()
	if err := e.enc.Encode(&e.rec); err != nil {
		return nil, fmt.Errorf("encoding %T: %w", e.rec, err)
	}
	end := e.buf.Len() - 1 // without Encode's newline
	data := e.buf.Bytes()[start:end:end]
	return data, checkSize(e.s, e.rec, data)
}

func put[T record](ctx context.Context, s *State, key string, rec T, rev uint64) (uint64, error) {
	data, err := marshalSized(s, rec)
	if err != nil {
		return 0, fmt.Errorf("writing %s: %w", key, err)
	}
	var newRev uint64
	err = s.do(ctx, func(kv jetstream.KeyValue) (err error) {
		if rev == 0 {
			newRev, err = kv.Create(ctx, key, data)
		} else {
			newRev, err = kv.Update(ctx, key, data, rev)
		}
		return err
	})
	if isConflict(err) {
		return 0, fmt.Errorf("writing %s: %w", key, messages.ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("writing %s: %w", key, err)
	}
	return newRev, nil
}

func isConflict(err error) bool {
	return errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) || isWrongLastSequence(err)
}

// isWrongLastSequence catches CAS conflicts reported by replicated streams,
// which some client paths surface as a plain API error.
func isWrongLastSequence(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
			apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant
	}
	return err != nil && strings.Contains(err.Error(), "wrong last sequence")
}
