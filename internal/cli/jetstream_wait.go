package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/s3load/s3load/internal/config"
	"github.com/s3load/s3load/internal/natsq"
)

// jetStreamWait bounds how long a starting process waits for JetStream to
// accept the task stream and the state bucket. Started together with NATS
// (docker compose, a cluster still electing its leader), s3load finds the
// server up but JetStream not yet able to create or find them: that is
// waited out, as the first connection is, instead of failing the process.
const jetStreamWait = time.Minute

// openJetStream opens the job's queue and the state bucket, trying again
// until jetStreamWait passes. Like the first connection, the wait is
// silent; the last error is returned if it does not end.
func openJetStream(ctx context.Context, js jetstream.JetStream, job string, c config.Config) (*natsq.Queue, *natsq.State, error) {
	deadline := time.Now().Add(jetStreamWait)
	wait := 250 * time.Millisecond
	for {
		q, err := natsq.OpenQueue(ctx, js, job, queueOptions(c))
		if err == nil {
			var st *natsq.State
			if st, err = natsq.OpenState(ctx, js, queueOptions(c)); err == nil {
				return q, st, nil
			}
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return nil, nil, err
		}
		select {
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("%w (last: %w)", ctx.Err(), err)
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}
