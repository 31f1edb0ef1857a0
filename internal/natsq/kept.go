package natsq

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/messages"
)

// CreateKept creates kept records (see messages.KeptRecord) among their
// tables' file records, pipelined like CreateFiles; one that exists
// already is left as it is. A record over the server's max payload fails
// with messages.ErrTooLarge before any is written.
func (s *State) CreateKept(ctx context.Context, recs []messages.KeptRecord) error {
	msgs := make([]nats.Msg, len(recs))
	header := nats.Header{jetstream.ExpectedLastSubjSeqHeader: []string{"0"}}
	for i, rec := range recs {
		data, err := marshalSized(s, rec)
		if err != nil {
			return fmt.Errorf("recording kept part %s: %w", rec.Part, err)
		}
		msgs[i] = nats.Msg{Subject: "$KV." + StateBucket + "." + filePrefix(rec.LoadID, rec.Table) + rec.Token(), Data: data, Header: header}
	}
	return s.do(ctx, func(jetstream.KeyValue) error {
		_, err := s.createPipelined(ctx, msgs, func(i int) string { return "kept part " + recs[i].Part })
		return err
	})
}

// Unkeep turns the kept record under token into file records of their own,
// loaded as before, then deletes it; a record unkept already is no error.
// Readers prefer a file's own record to a kept one, so a crash between
// the two writes leaves the same files loaded, and unkeeping again
// finishes the job.
func (s *State) Unkeep(ctx context.Context, load, table, token string) error {
	key := filePrefix(load, table) + token
	rec, rev, err := get[messages.KeptRecord](ctx, s, key)
	if errors.Is(err, messages.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("unkeeping: %w", err)
	}
	if _, err := s.CreateFiles(ctx, rec.Records()); err != nil {
		return fmt.Errorf("unkeeping %s: %w", key, err)
	}
	err = s.do(ctx, func(kv jetstream.KeyValue) error {
		return kv.Delete(ctx, key, jetstream.LastRevision(rev))
	})
	if err != nil && !isConflict(err) {
		return fmt.Errorf("unkeeping %s: %w", key, err)
	}
	return nil
}

// fileSet turns the changes of a table's file keys into file events, kept
// records expanded into the records they stand for. A file's own record
// wins over a kept record that also lists it: Unkeep writes the own
// records before it deletes the kept one.
type fileSet struct {
	own    map[string]bool                  // file tokens with a record of their own
	kept   map[string][]messages.FileRecord // kept token -> the records it stands for
	keptAt map[string]uint64                // kept token -> its revision
	keptOf map[string]string                // file token -> the kept token standing for it
	// unkept are files of a deleted kept record whose own record the watch
	// has not met yet. The bucket keeps one message a key, so a watch that
	// lags behind the writes never sees an own record a later write to its
	// key replaced: that write comes after the kept record's deletion. They
	// are said deleted only once the watch has caught up without meeting
	// one.
	unkept map[string]bool
}

func newFileSet() *fileSet {
	return &fileSet{own: map[string]bool{}, kept: map[string][]messages.FileRecord{}, keptAt: map[string]uint64{},
		keptOf: map[string]string{}, unkept: map[string]bool{}}
}

// apply takes one key's change (token, its revision, whether it is a
// deletion, its value; caughtUp: no later change is waiting) and sends the
// file events it makes to emit.
func (fs *fileSet) apply(token string, rev uint64, deleted bool, value []byte, current, caughtUp bool, emit func(coordinator.FileEvent) error) error {
	if err := fs.applyKey(token, rev, deleted, value, current, emit); err != nil {
		return err
	}
	if caughtUp {
		return fs.flushUnkept(current, emit)
	}
	return nil
}

// flushUnkept says deleted the files of deleted kept records that got no
// own record.
func (fs *fileSet) flushUnkept(current bool, emit func(coordinator.FileEvent) error) error {
	for t := range fs.unkept {
		delete(fs.unkept, t)
		if !fs.own[t] {
			if err := emit(coordinator.FileEvent{Token: t, Deleted: true, Current: current}); err != nil {
				return err
			}
		}
	}
	return nil
}

func (fs *fileSet) applyKey(token string, rev uint64, deleted bool, value []byte, current bool, emit func(coordinator.FileEvent) error) error {
	if messages.IsKeptToken(token) {
		return fs.applyKept(token, rev, deleted, value, current, emit)
	}
	delete(fs.unkept, token) // its own record, or its own deletion, says the rest
	if deleted {
		delete(fs.own, token)
		if k, ok := fs.keptOf[token]; ok {
			for _, r := range fs.kept[k] {
				if r.Token() == token {
					return emit(coordinator.FileEvent{Token: token, Record: r, Revision: fs.keptAt[k], Current: current})
				}
			}
		}
		return emit(coordinator.FileEvent{Token: token, Deleted: true, Current: current})
	}
	rec, err := messages.Unmarshal[messages.FileRecord](value)
	if err != nil {
		return err
	}
	fs.own[token] = true
	return emit(coordinator.FileEvent{Token: token, Record: rec, Revision: rev, Current: current})
}

func (fs *fileSet) applyKept(token string, rev uint64, deleted bool, value []byte, current bool, emit func(coordinator.FileEvent) error) error {
	if deleted {
		recs := fs.kept[token]
		delete(fs.kept, token)
		delete(fs.keptAt, token)
		for _, r := range recs {
			t := r.Token()
			if fs.keptOf[t] == token {
				delete(fs.keptOf, t)
			}
			if !fs.own[t] {
				fs.unkept[t] = true
			}
		}
		return nil
	}
	k, err := messages.Unmarshal[messages.KeptRecord](value)
	if err != nil {
		return err
	}
	recs := k.Records()
	fs.kept[token], fs.keptAt[token] = recs, rev
	for _, r := range recs {
		t := r.Token()
		fs.keptOf[t] = token
		delete(fs.unkept, t)
		if fs.own[t] {
			continue
		}
		if err := emit(coordinator.FileEvent{Token: t, Record: r, Revision: rev, Current: current}); err != nil {
			return err
		}
	}
	return nil
}
