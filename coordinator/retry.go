package coordinator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/s3load/s3load/messages"
)

// ErrPermanent marks an error that retrying cannot fix; ports mark theirs
// through IsPermanent, and the coordinator's own with Permanent.
var ErrPermanent = errors.New("permanent")

// Permanent marks err as permanent without changing its message.
func Permanent(err error) error { return permanentErr{err} }

type permanentErr struct{ err error }

func (p permanentErr) Error() string        { return p.err.Error() }
func (p permanentErr) Unwrap() error        { return p.err }
func (p permanentErr) Is(target error) bool { return target == ErrPermanent }

// permanent reports whether err is one that only a person can fix,
// whichever port it came from.
func (c *Coordinator) permanent(err error) bool {
	return errors.Is(err, ErrPermanent) || errors.Is(err, messages.ErrTooLarge) ||
		c.Lister.IsPermanent(err) || (c.Committer != nil && c.Committer.IsPermanent(err))
}

// final marks an error that retrying the operation around it cannot help:
// it was retried where it happened.
type final struct{ err error }

func (f final) Error() string { return f.err.Error() }
func (f final) Unwrap() error { return f.err }

// retryLogEvery spaces the warnings of a long retry: an outage of ten
// minutes is a few lines, not one every few seconds.
const retryLogEvery = 30 * time.Second

// retry runs op until it succeeds, ctx ends or RetryFor passes: the store,
// the queue and the state store are briefly away when a server restarts or
// a cluster elects a leader, and a load should wait that out, not fail. A
// conflict, a missing record or a permanent error is an answer, not an
// outage: it returns at once.
func (c *Coordinator) retry(ctx context.Context, what string, op func() error) error {
	started := time.Now()
	deadline := started.Add(c.cfg.RetryFor)
	wait := 100 * time.Millisecond
	var logged time.Time
	for {
		err := op()
		var fin final
		if err == nil || errors.Is(err, messages.ErrConflict) || errors.Is(err, messages.ErrNotFound) ||
			errors.As(err, &fin) || c.permanent(err) || ctx.Err() != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: still failing after %s (retry.max_duration): %w", what, c.cfg.RetryFor, err)
		}
		if time.Since(logged) >= retryLogEvery {
			c.cfg.Logger.Warn("retrying", "op", what, "err", err, "for", time.Since(started).Round(time.Second))
			logged = time.Now()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, 5*time.Second)
	}
}

// putTable writes a table's record with retries; see putRetried.
func (c *Coordinator) putTable(ctx context.Context, rec messages.TableRecord, rev uint64) (uint64, error) {
	return putRetried(ctx, c, "recording table "+rec.Table, rec, rev, c.State.PutTable,
		func(ctx context.Context) (messages.TableRecord, uint64, error) {
			return c.State.Table(ctx, rec.LoadID, rec.Table)
		})
}

// putLoad writes the job's load record with retries; see putRetried.
func (c *Coordinator) putLoad(ctx context.Context, rec messages.LoadRecord, rev uint64) (uint64, error) {
	return putRetried(ctx, c, "recording load "+rec.LoadID, rec, rev, c.State.PutLoad,
		func(ctx context.Context) (messages.LoadRecord, uint64, error) {
			return c.State.Load(ctx, rec.Job)
		})
}

// putFile writes a file's record with retries; see putRetried.
func (c *Coordinator) putFile(ctx context.Context, rec messages.FileRecord, rev uint64) (uint64, error) {
	return putRetried(ctx, c, "recording "+rec.Source.String(), rec, rev, c.State.PutFile,
		func(ctx context.Context) (messages.FileRecord, uint64, error) {
			return c.State.File(ctx, rec.LoadID, rec.Table, rec.Token())
		})
}

// putRetried writes rec over revision rev, retrying while the store is
// away. A try that timed out during a leader election may still have
// landed, and its retry then meets its own write as a conflict: so a
// conflict after a failed try reads the record back, and finding exactly
// rec there counts as success.
func putRetried[T messages.TableRecord | messages.LoadRecord | messages.FileRecord | messages.LeaseRecord](ctx context.Context, c *Coordinator, what string, rec T, rev uint64,
	put func(context.Context, T, uint64) (uint64, error), get func(context.Context) (T, uint64, error),
) (uint64, error) {
	var out uint64
	failed := false
	err := c.retry(ctx, what, func() (err error) {
		out, err = put(ctx, rec, rev)
		if errors.Is(err, messages.ErrConflict) && failed {
			stored, storedRev, gerr := get(ctx)
			if gerr != nil && !errors.Is(gerr, messages.ErrNotFound) {
				return gerr
			}
			if gerr == nil && sameRecord(stored, rec) {
				out = storedRev
				return nil
			}
		}
		failed = failed || err != nil
		return err
	})
	return out, err
}

func sameRecord[T messages.TableRecord | messages.LoadRecord | messages.FileRecord | messages.LeaseRecord](a, b T) bool {
	ab, aerr := messages.Marshal(a)
	bb, berr := messages.Marshal(b)
	return aerr == nil && berr == nil && bytes.Equal(ab, bb)
}

func isNotFound(err error) bool { return errors.Is(err, messages.ErrNotFound) }
