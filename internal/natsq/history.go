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

func historyPrefix(job string) string { return "history." + job + "." }

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
	key := historyPrefix(rec.Job) + rec.LoadID
	err = s.do(ctx, func(kv jetstream.KeyValue) error {
		_, err := kv.Put(ctx, key, data)
		return err
	})
	if err != nil {
		return fmt.Errorf("writing %s: %w", key, err)
	}
	return s.trimHistory(ctx, rec.Job, HistoryKeep)
}

// trimHistory purges the job's oldest history entries beyond keep. Load
// IDs begin with their start time, so their order is the loads' order.
func (s *State) trimHistory(ctx context.Context, job string, keep int) error {
	var keys []string
	err := s.do(ctx, func(kv jetstream.KeyValue) error {
		keys = keys[:0]
		l, err := kv.ListKeysFiltered(ctx, historyPrefix(job)+"*")
		if err != nil {
			return err
		}
		defer func() { _ = l.Stop() }()
		seen := map[string]bool{} // a listing may repeat a key
		for k := range l.Keys() {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
		return nil
	})
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("listing the history of %s: %w", job, err)
	}
	if len(keys) <= keep {
		return nil
	}
	sort.Strings(keys)
	for _, k := range keys[:len(keys)-keep] {
		if err := s.do(ctx, func(kv jetstream.KeyValue) error { return kv.Purge(ctx, k) }); err != nil {
			return fmt.Errorf("dropping %s: %w", k, err)
		}
	}
	return nil
}

// History returns the job's history entries, newest first.
func (s *State) History(ctx context.Context, job string) ([]messages.LoadRecord, error) {
	recs, err := collect[messages.LoadRecord](ctx, s, historyPrefix(job)+"*")
	if err != nil {
		return nil, err
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].LoadID > recs[j].LoadID })
	return recs, nil
}
