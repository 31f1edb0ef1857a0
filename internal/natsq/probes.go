package natsq

import (
	"context"
	"fmt"
	"time"

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
// none): a watch that starts past what the caller has read. With none
// there yet, the same watch waits up to wait for the next one.
func (s *State) Probes(ctx context.Context, load, table string, after uint64, wait time.Duration) ([]messages.ProbeRecord, uint64, error) {
	return collectSince[messages.ProbeRecord](ctx, s, probePrefix(load, table)+"*", after, wait)
}
