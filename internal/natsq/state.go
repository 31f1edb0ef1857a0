package natsq

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/s3load/s3load/messages"
)

// State keeps a load's durable records in one key-value bucket:
//
//	job.<job>                    the job's current load (messages.LoadRecord)
//	table.<load>.<table>         one table of a load   (messages.TableRecord)
//	file.<load>.<table>.<token>  one listed file       (messages.FileRecord)
//
// Every write is compare-and-set on the revision it read, so two writers
// never silently overwrite each other.
type State struct {
	js jetstream.JetStream
	kv jetstream.KeyValue
}

// OpenState creates or opens the state bucket.
func OpenState(ctx context.Context, js jetstream.JetStream, opts Options) (*State, error) {
	opts = opts.withDefaults()
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      StateBucket,
		Description: "s3load: durable state of loads, tables and files",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    opts.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("opening kv bucket %s: %w", StateBucket, err)
	}
	return &State{js: js, kv: kv}, nil
}

func jobKey(job string) string             { return "job." + job }
func tableKey(load, table string) string   { return "table." + load + "." + table }
func filePrefix(load, table string) string { return "file." + load + "." + table + "." }

// Load reads the job's current load record.
func (s *State) Load(ctx context.Context, job string) (messages.LoadRecord, uint64, error) {
	return get[messages.LoadRecord](ctx, s.kv, jobKey(job))
}

// PutLoad writes the job's load record; rev 0 creates it.
func (s *State) PutLoad(ctx context.Context, rec messages.LoadRecord, rev uint64) (uint64, error) {
	return put(ctx, s.kv, jobKey(rec.Job), rec, rev)
}

// Table reads a table's record in a load.
func (s *State) Table(ctx context.Context, load, table string) (messages.TableRecord, uint64, error) {
	return get[messages.TableRecord](ctx, s.kv, tableKey(load, table))
}

// PutTable writes a table's record; rev 0 creates it.
func (s *State) PutTable(ctx context.Context, rec messages.TableRecord, rev uint64) (uint64, error) {
	return put(ctx, s.kv, tableKey(rec.LoadID, rec.Table), rec, rev)
}

// File reads one file's record.
func (s *State) File(ctx context.Context, load, table, token string) (messages.FileRecord, uint64, error) {
	return get[messages.FileRecord](ctx, s.kv, filePrefix(load, table)+token)
}

// PutFile writes one file's record; rev 0 creates it.
func (s *State) PutFile(ctx context.Context, rec messages.FileRecord, rev uint64) (uint64, error) {
	return put(ctx, s.kv, filePrefix(rec.LoadID, rec.Table)+rec.Token(), rec, rev)
}

// CreateFiles creates the records of many files at once, pipelined: each
// is a publish to the bucket's subject that expects no earlier value, which
// is what a KV create is, sent without waiting for the one before. It
// returns each record's revision, or 0 where the record already existed.
func (s *State) CreateFiles(ctx context.Context, recs []messages.FileRecord) ([]uint64, error) {
	futures := make([]jetstream.PubAckFuture, len(recs))
	for i, rec := range recs {
		data, err := messages.Marshal(rec)
		if err != nil {
			return nil, fmt.Errorf("encoding file record: %w", err)
		}
		msg := nats.NewMsg("$KV." + StateBucket + "." + filePrefix(rec.LoadID, rec.Table) + rec.Token())
		msg.Data = data
		msg.Header.Set(jetstream.ExpectedLastSubjSeqHeader, "0")
		if futures[i], err = s.js.PublishMsgAsync(msg); err != nil {
			return nil, fmt.Errorf("recording %s: %w", rec.Source, err)
		}
	}
	revs := make([]uint64, len(recs))
	for i, f := range futures {
		select {
		case ack := <-f.Ok():
			revs[i] = ack.Sequence
		case err := <-f.Err():
			if !isWrongLastSequence(err) {
				return nil, fmt.Errorf("recording %s: %w", recs[i].Source, err)
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return revs, nil
}

// WatchFiles sends every file record of the table, first the current ones
// and then each change, until ctx ends. An empty read marks the end of the
// current records.
func (s *State) WatchFiles(ctx context.Context, load, table string, fn func(rec messages.FileRecord, current bool) error) error {
	w, err := s.kv.Watch(ctx, filePrefix(load, table)+"*", jetstream.IgnoreDeletes())
	if err != nil {
		return fmt.Errorf("watching files of %s: %w", table, err)
	}
	defer func() { _ = w.Stop() }()
	current := false
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e, ok := <-w.Updates():
			if !ok {
				return fmt.Errorf("watching files of %s: watcher closed", table)
			}
			if e == nil {
				current = true
				if err := fn(messages.FileRecord{}, true); err != nil {
					return err
				}
				continue
			}
			rec, err := messages.Unmarshal[messages.FileRecord](e.Value())
			if err != nil {
				return fmt.Errorf("reading %s: %w", e.Key(), err)
			}
			if err := fn(rec, current); err != nil {
				return err
			}
		}
	}
}

// Files returns every file record of the table now.
func (s *State) Files(ctx context.Context, load, table string) ([]messages.FileRecord, error) {
	var out []messages.FileRecord
	err := s.WatchFiles(ctx, load, table, func(rec messages.FileRecord, current bool) error {
		if rec.Source.Key == "" && current {
			return errStop
		}
		out = append(out, rec)
		return nil
	})
	if errors.Is(err, errStop) {
		return out, nil
	}
	return nil, err
}

var errStop = errors.New("stop")

type record interface {
	messages.LoadRecord | messages.TableRecord | messages.FileRecord
}

func get[T record](ctx context.Context, kv jetstream.KeyValue, key string) (T, uint64, error) {
	var zero T
	e, err := kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
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

func put[T record](ctx context.Context, kv jetstream.KeyValue, key string, rec T, rev uint64) (uint64, error) {
	data, err := messages.Marshal(rec)
	if err != nil {
		return 0, fmt.Errorf("encoding %s: %w", key, err)
	}
	var newRev uint64
	if rev == 0 {
		newRev, err = kv.Create(ctx, key, data)
	} else {
		newRev, err = kv.Update(ctx, key, data, rev)
	}
	if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) || isWrongLastSequence(err) {
		return 0, fmt.Errorf("writing %s: %w", key, messages.ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("writing %s: %w", key, err)
	}
	return newRev, nil
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
