package natsq

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/messages"
)

// HistoryKeep is how many ended loads a job's history keeps.
const HistoryKeep = 100

var _ coordinator.HistoryStore = (*State)(nil)

// HistoryBucket keeps the jobs' history (history.<job>.<load>), apart from
// the state bucket. An entry lives for HistoryKeep loads; written among a
// load's many short-lived file records, each one kept a whole block of
// them on disk, since the store frees a block only when all of it is gone:
// a block per load, which every filtered watch of the state bucket read
// again. Entries an older version left in the state bucket are read too,
// and moved here when the job next writes its history.
const HistoryBucket = "s3load_history"

func historyPrefix(job string) string { return "history." + job + "." }

// historyBucket returns the history bucket's handle, creating the bucket if
// create is set; nil and no error if it does not exist and create is not.
func (s *State) historyBucket(ctx context.Context, create bool) (jetstream.KeyValue, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hist != nil {
		return s.hist, nil
	}
	var kv jetstream.KeyValue
	var err error
	if create {
		kv, err = s.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:      HistoryBucket,
			Description: "s3load: the loads each job ran, the last " + fmt.Sprint(HistoryKeep),
			History:     1,
			Storage:     jetstream.FileStorage,
			Replicas:    s.opts.Replicas,
		})
	} else {
		kv, err = s.js.KeyValue(ctx, HistoryBucket)
		if errors.Is(err, jetstream.ErrBucketNotFound) {
			return nil, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("opening kv bucket %s: %w", HistoryBucket, err)
	}
	s.hist = kv
	return kv, nil
}

// LookupState opens the state bucket if it exists, without creating it: a
// reader (s3load history) leaves no bucket behind. A missing bucket is an
// error wrapping messages.ErrNotFound.
func LookupState(ctx context.Context, js jetstream.JetStream, opts Options) (*State, error) {
	kv, err := js.KeyValue(ctx, StateBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, fmt.Errorf("kv bucket %s: %w", StateBucket, messages.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("opening kv bucket %s: %w", StateBucket, err)
	}
	return &State{js: js, opts: opts.withDefaults(), kv: kv}, nil
}

// PutHistory records rec as its load's entry in the job's history
// (history.<job>.<load>), replacing an earlier entry of the load, and
// drops the oldest entries beyond HistoryKeep.
func (s *State) PutHistory(ctx context.Context, rec messages.LoadRecord) error {
	data, err := marshalSized(s, rec)
	if err != nil {
		return err
	}
	kv, err := s.historyBucket(ctx, true)
	if err != nil {
		return err
	}
	key := historyPrefix(rec.Job) + rec.LoadID
	_, err = kv.Put(ctx, key, data)
	if bucketGone(err) { // deleted under us: create it again
		s.mu.Lock()
		s.hist = nil
		s.mu.Unlock()
		if kv, err = s.historyBucket(ctx, true); err == nil {
			_, err = kv.Put(ctx, key, data)
		}
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", key, err)
	}
	if err := s.moveOldHistory(ctx, kv, rec.Job); err != nil {
		return err
	}
	return trimHistory(ctx, s.js, kv, rec.Job, HistoryKeep)
}

// moveOldHistory moves the job's entries an older version wrote in the
// state bucket to the history bucket kv, once per State.
func (s *State) moveOldHistory(ctx context.Context, kv jetstream.KeyValue, job string) error {
	s.mu.Lock()
	moved := s.historyMoved[job]
	s.mu.Unlock()
	if moved {
		return nil
	}
	old, err := collect[messages.LoadRecord](ctx, s, historyPrefix(job)+"*")
	if err != nil {
		return fmt.Errorf("reading the history of %s in %s: %w", job, StateBucket, err)
	}
	for _, rec := range old {
		key := historyPrefix(job) + rec.LoadID
		data, err := messages.Marshal(rec)
		if err != nil {
			return fmt.Errorf("moving %s: %w", key, err)
		}
		// Create, not Put: an entry written here since is newer.
		if _, err := kv.Create(ctx, key, data); err != nil && !isConflict(err) {
			return fmt.Errorf("moving %s: %w", key, err)
		}
		if err := purgeKey(ctx, s.js, StateBucket, key); err != nil {
			return fmt.Errorf("moving %s: %w", key, err)
		}
	}
	s.mu.Lock()
	if s.historyMoved == nil {
		s.historyMoved = map[string]bool{}
	}
	s.historyMoved[job] = true
	s.mu.Unlock()
	return nil
}

// trimHistory purges the job's oldest history entries beyond keep. Load
// IDs begin with their start time, so their order is the loads' order.
func trimHistory(ctx context.Context, js jetstream.JetStream, kv jetstream.KeyValue, job string, keep int) error {
	var keys []string
	err := readCurrent(ctx, kv, historyPrefix(job)+"*", 0, func(e jetstream.KeyValueEntry) error {
		keys = append(keys, e.Key())
		return nil
	})
	if err != nil {
		return fmt.Errorf("listing the history of %s: %w", job, err)
	}
	if len(keys) <= keep {
		return nil
	}
	sort.Strings(keys)
	for _, k := range keys[:len(keys)-keep] {
		if err := purgeKey(ctx, js, HistoryBucket, k); err != nil {
			return fmt.Errorf("dropping %s: %w", k, err)
		}
	}
	return nil
}

// purgeKey removes every message of a key from the bucket's stream,
// leaving no marker behind (a KV purge leaves one, which stays forever).
func purgeKey(ctx context.Context, js jetstream.JetStream, bucket, key string) error {
	stream, err := js.Stream(ctx, "KV_"+bucket)
	if err != nil {
		return err
	}
	return stream.Purge(ctx, jetstream.WithPurgeSubject("$KV."+bucket+"."+key))
}

// History returns the job's history entries, newest first: those of the
// history bucket, and those an older version left in the state bucket.
func (s *State) History(ctx context.Context, job string) ([]messages.LoadRecord, error) {
	recs, err := collect[messages.LoadRecord](ctx, s, historyPrefix(job)+"*")
	if err != nil {
		return nil, err
	}
	kv, err := s.historyBucket(ctx, false)
	if err != nil {
		return nil, err
	}
	if kv != nil {
		moved, err := collectFrom[messages.LoadRecord](ctx, kv, historyPrefix(job)+"*")
		if err != nil {
			return nil, err
		}
		have := map[string]bool{}
		for _, r := range moved {
			have[r.LoadID] = true
		}
		for _, r := range recs {
			if !have[r.LoadID] {
				moved = append(moved, r)
			}
		}
		recs = moved
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].LoadID > recs[j].LoadID })
	return recs, nil
}
