package coordinator

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/s3load/s3load/messages"
)

// ErrLeaseLost: another coordinator took the job over; this one must stop.
var ErrLeaseLost = errors.New("coordinator lease lost")

// lease is the job's coordinator lease while this coordinator holds it.
type lease struct {
	c   *Coordinator
	mu  sync.Mutex
	rec messages.LeaseRecord
	rev uint64
}

// holderGone says a lease found is known to be a dead holder's, to take at
// once: in private state (PrivateState) any lease is an earlier process's,
// and elsewhere one whose holder's own clock says it lapsed long ago (a
// coordinator killed a while back); twice the TTL leaves room for clocks
// that disagree.
func (c *Coordinator) holderGone(cur messages.LeaseRecord, now time.Time) bool {
	return c.cfg.PrivateState || now.Sub(cur.Renewed) > 2*c.cfg.LeaseTTL
}

// acquireLease takes the job's lease, waiting as a standby while another
// coordinator holds a live one: a lease that has not changed for LeaseTTL
// (as this coordinator's own clock measures it, so clocks need not agree)
// is taken over. waitedSince is when the wait began, zero if there was none.
func (c *Coordinator) acquireLease(ctx context.Context) (l *lease, waitedSince time.Time, err error) {
	var seenRev uint64
	var seenAt time.Time
	for {
		now := time.Now().UTC()
		rec := messages.LeaseRecord{Job: c.cfg.Job, Holder: c.cfg.Holder, Host: c.cfg.Host, PID: c.cfg.PID,
			Acquired: now, Renewed: now, Spec: c.cfg.Spec}
		var cur messages.LeaseRecord
		var curRev uint64
		err := c.retry(ctx, "reading the job's lease", func() (err error) {
			cur, curRev, err = c.Leases.Lease(ctx, c.cfg.Job)
			return err
		})
		switch {
		case errors.Is(err, messages.ErrNotFound):
			curRev = 0
		case err != nil:
			return nil, waitedSince, fmt.Errorf("reading the lease of job %s: %w", c.cfg.Job, err)
		case cur.Holder == c.cfg.Holder:
			// Our own create landed though its reply was lost.
			return &lease{c: c, rec: cur, rev: curRev}, waitedSince, nil
		case curRev != seenRev:
			// Alive (or first seen): watch it for a full TTL.
			if seenRev == 0 && !c.holderGone(cur, now) {
				waitedSince = time.Now()
				c.cfg.Logger.Warn("another coordinator runs this job; waiting as a standby until its lease lapses",
					"holder", cur.Holder, "host", cur.Host, "pid", cur.PID, "renewed", now.Sub(cur.Renewed).Round(time.Second).String()+" ago",
					"lease_ttl", c.cfg.LeaseTTL)
			}
			seenRev, seenAt = curRev, time.Now()
		}
		if curRev == 0 || c.holderGone(cur, now) || time.Since(seenAt) >= c.cfg.LeaseTTL {
			if curRev != 0 {
				rec.LoadID = cur.LoadID
			}
			rev, err := c.Leases.PutLease(ctx, rec, curRev)
			if err == nil {
				switch {
				case curRev != 0 && c.cfg.PrivateState:
					c.cfg.Logger.Warn("took the job over from an earlier run that stopped without releasing it", "from", cur.Holder, "pid", cur.PID)
				case curRev != 0:
					c.cfg.Logger.Warn("took the job over from a coordinator whose lease lapsed", "from", cur.Holder, "host", cur.Host)
				}
				return &lease{c: c, rec: rec, rev: rev}, waitedSince, nil
			}
			if !errors.Is(err, messages.ErrConflict) && (c.permanent(err) || ctx.Err() != nil) {
				return nil, waitedSince, fmt.Errorf("taking the lease of job %s: %w", c.cfg.Job, err)
			}
		}
		select {
		case <-ctx.Done():
			return nil, waitedSince, ctx.Err()
		case <-time.After(min(time.Second, c.cfg.LeaseTTL/10)):
		}
	}
}

// setLoad records the load the lease holder carries, for status readers.
func (l *lease) setLoad(load string) {
	l.mu.Lock()
	l.rec.LoadID = load
	l.mu.Unlock()
}

// renew writes the lease again. A conflict means another coordinator took
// it: ErrLeaseLost.
func (l *lease) renew(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	rec := l.rec
	rec.Renewed = time.Now().UTC()
	rev, err := l.c.Leases.PutLease(ctx, rec, l.rev)
	if errors.Is(err, messages.ErrConflict) {
		cur, curRev, gerr := l.c.Leases.Lease(ctx, l.c.cfg.Job)
		if errors.Is(gerr, messages.ErrNotFound) {
			// The lease is gone (the state bucket lost or deleted): nobody
			// holds the job, so take it again, as anyone could.
			if rev, err = l.c.Leases.PutLease(ctx, rec, 0); err == nil {
				l.rec, l.rev = rec, rev
				return nil
			}
			if !errors.Is(err, messages.ErrConflict) {
				return err
			}
			cur, curRev, gerr = l.c.Leases.Lease(ctx, l.c.cfg.Job)
		}
		if gerr != nil && !errors.Is(gerr, messages.ErrNotFound) {
			return gerr // cannot tell yet
		}
		if gerr == nil && cur.Holder == l.c.cfg.Holder {
			// An earlier renewal landed though its reply was lost.
			l.rec, l.rev = cur, curRev
			return nil
		}
		holder := "another coordinator"
		if gerr == nil {
			holder = fmt.Sprintf("coordinator %s on %s", cur.Holder, cur.Host)
		}
		return fmt.Errorf("%w: %s took job %s over", ErrLeaseLost, holder, l.c.cfg.Job)
	}
	if err != nil {
		return err
	}
	l.rec, l.rev = rec, rev
	return nil
}

// keep renews the lease every third of its TTL until ctx ends, and calls
// lost when another coordinator has taken it. Failing to reach the store
// is not losing the lease: an outage is waited out, and the renewal after
// it tells.
func (l *lease) keep(ctx context.Context, lost func(error)) {
	t := time.NewTicker(l.c.cfg.LeaseTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := l.renew(ctx); errors.Is(err, ErrLeaseLost) {
			lost(err)
			return
		} else if err != nil && ctx.Err() == nil {
			l.c.cfg.Logger.Debug("renewing the coordinator lease", "err", err)
		}
	}
}

// confirm renews the lease now, with retries, so that what follows (a
// commit) is done by the job's one coordinator.
func (l *lease) confirm(ctx context.Context) error {
	return l.c.retry(ctx, "renewing the coordinator lease", func() error {
		err := l.renew(ctx)
		if errors.Is(err, ErrLeaseLost) {
			return final{err}
		}
		return err
	})
}

// release gives the lease up so a standby can go on at once.
func (l *lease) release(ctx context.Context) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := l.c.Leases.DeleteLease(rctx, l.c.cfg.Job, l.rev); err != nil {
		l.c.cfg.Logger.Debug("releasing the coordinator lease", "err", err)
	}
}
