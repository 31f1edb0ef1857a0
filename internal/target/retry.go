package target

import (
	"context"
	"fmt"
	"time"

	"github.com/s3load/s3load/internal/s3store"
)

// Backoff between attempts of a commit's store requests (on top of the S3
// client's own few quick retries).
const (
	retryFirstBackoff = 100 * time.Millisecond
	retryMaxBackoff   = 5 * time.Second
)

// retryPolicy bounds how long an operation's requests retry transient
// store errors, all of them together.
type retryPolicy struct{ max time.Duration }

// start begins an operation on where (an s3:// URL, for messages).
func (p retryPolicy) start(where string) *retrier {
	return &retrier{deadline: time.Now().Add(p.max), where: where}
}

type retrier struct {
	deadline time.Time
	where    string
}

// do calls op until it succeeds, fails for good (not s3store.IsTransient),
// ctx ends, or waiting for another attempt would pass the deadline.
func (r *retrier) do(ctx context.Context, what string, op func() error) error {
	backoff := retryFirstBackoff
	for attempt := 1; ; attempt++ {
		err := op()
		if err == nil {
			return nil
		}
		if !s3store.IsTransient(err) {
			return storeErr(what, r.where, err)
		}
		if time.Now().Add(backoff).After(r.deadline) {
			return fmt.Errorf("%s: still failing after %d attempts: %w", what, attempt, err)
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s: %w (last error: %w)", what, ctx.Err(), err)
		case <-t.C:
		}
		backoff = min(2*backoff, retryMaxBackoff)
	}
}
