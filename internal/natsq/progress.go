package natsq

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/s3load/s3load/messages"
)

func progressKey(job string) string { return "progress." + job }

// PutProgress writes a load's live progress under its job. One writer (the
// lease holder) at a time, so it is simply overwritten.
func (s *State) PutProgress(ctx context.Context, rec messages.ProgressRecord) error {
	data, err := marshalSized(s, rec)
	if err != nil {
		return err
	}
	return s.do(ctx, func(kv jetstream.KeyValue) error {
		if _, err := kv.Put(ctx, progressKey(rec.Job), data); err != nil {
			return fmt.Errorf("writing the progress of job %s: %w", rec.Job, err)
		}
		return nil
	})
}

// Progress reads the last progress a coordinator of job wrote
// (messages.ErrNotFound: none yet).
func (s *State) Progress(ctx context.Context, job string) (messages.ProgressRecord, error) {
	rec, _, err := get[messages.ProgressRecord](ctx, s, progressKey(job))
	return rec, err
}
