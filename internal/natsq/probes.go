package natsq

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/s3load/s3load/messages"
)

func probePrefix(load, table string) string { return "probe." + load + "." + table + "." }

// PutProbe writes a probe task's results. Probing is idempotent, so the
// record is simply replaced: a redelivered task writes the same findings.
func (s *State) PutProbe(ctx context.Context, rec messages.ProbeRecord) error {
	key := probePrefix(rec.LoadID, rec.Table) + rec.Task
	data, err := marshalSized(s, rec)
	if err != nil {
		return fmt.Errorf("writing %s: %w", key, err)
	}
	return s.do(ctx, func(kv jetstream.KeyValue) error {
		if _, err := kv.Put(ctx, key, data); err != nil {
			return fmt.Errorf("writing %s: %w", key, err)
		}
		return nil
	})
}

// Probes returns the probe records of a table's pre-flight stored after
// revision after (0: every one), and the last revision read (after if
// none): a watch that starts past what the caller has read.
func (s *State) Probes(ctx context.Context, load, table string, after uint64) ([]messages.ProbeRecord, uint64, error) {
	pattern := probePrefix(load, table) + "*"
	var out []messages.ProbeRecord
	last := after
	err := s.do(ctx, func(kv jetstream.KeyValue) error {
		out, last = out[:0], after
		opts := []jetstream.WatchOpt{jetstream.IgnoreDeletes()}
		if after > 0 {
			opts = append(opts, jetstream.ResumeFromRevision(after+1))
		}
		w, err := kv.Watch(ctx, pattern, opts...)
		if err != nil {
			return fmt.Errorf("reading %s: %w", pattern, err)
		}
		defer func() { _ = w.Stop() }()
		for {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case e, ok := <-w.Updates():
				if !ok {
					return fmt.Errorf("reading %s: watcher closed", pattern)
				}
				if e == nil {
					return nil
				}
				rec, err := messages.Unmarshal[messages.ProbeRecord](e.Value())
				if err != nil {
					return fmt.Errorf("reading %s: %w", e.Key(), err)
				}
				out = append(out, rec)
				last = max(last, e.Revision())
			}
		}
	})
	return out, last, err
}
