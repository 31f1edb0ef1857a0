package coordinator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/s3load/s3load/messages"
)

// Run carries the job's load to its end and reports per table: the open
// load (interrupted, or ended with some table not committed) is finished,
// else a new one starts. Run first takes the job's lease, waiting as a
// standby while another coordinator holds it; if that coordinator carries
// the load to its end meanwhile, Run reports that load and returns.
//
// A table that ends uncommitted (too many failed files, a listing that
// matched nothing, a permission denied, a table another load holds) is in
// the report; the other tables go on. An error means the load could not be
// carried through (ctx ended, the lease was lost, the state store stayed
// away past the retry budget): the report then holds what was known, and
// running again resumes the load.
func (c *Coordinator) Run(ctx context.Context) (Report, error) {
	l, waitedSince, err := c.acquireLease(ctx)
	if err != nil {
		return Report{}, err
	}
	defer l.release(ctx)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var keeper sync.WaitGroup
	keeper.Add(1)
	go func() { // owned by Run: cancelled and awaited below.
		defer keeper.Done()
		l.keep(ctx, cancel)
	}()
	defer keeper.Wait()
	defer cancel(nil)

	if !waitedSince.IsZero() {
		if rep, done, err := c.endedMeanwhile(ctx, waitedSince); err != nil || done {
			return rep, err
		}
	}
	load, rev, resumed, ended, err := c.openLoad(ctx)
	if err != nil {
		return Report{}, err
	}
	if ended != "" {
		// The last load's records go while this one runs: a drop reads the
		// whole state bucket (tens of milliseconds at 10,000 files), and
		// failing to drop costs space only. Awaited before Run returns, and
		// before the cancel above (defers run last first).
		var dropping sync.WaitGroup
		defer dropping.Wait()
		dropping.Add(1)
		go func() { // owned by Run: awaited above.
			defer dropping.Done()
			c.dropLoad(ctx, ended)
		}()
	}
	l.setLoad(load.LoadID)
	c.progress.start(c.cfg, load)
	keeper.Add(1)
	go func() { // owned by Run: cancelled and awaited below.
		defer keeper.Done()
		c.publishProgress(ctx)
	}()
	log := c.cfg.Logger.With("load", load.LoadID)
	log.Info("load started", "tables", len(c.cfg.Tables), "resumed", resumed)

	report := Report{LoadID: load.LoadID, Tables: make([]TableReport, len(c.cfg.Tables))}
	var wg sync.WaitGroup
	slots := make(chan struct{}, c.cfg.TableConcurrency)
	for i, t := range c.cfg.Tables {
		wg.Add(1)
		go func() { // owned by Run: awaited below.
			defer wg.Done()
			select {
			case slots <- struct{}{}:
				defer func() { <-slots }()
			case <-ctx.Done():
				report.Tables[i] = TableReport{Name: t.Name, Error: "not started: " + context.Cause(ctx).Error()}
				return
			}
			report.Tables[i] = c.runTable(ctx, l, load.LoadID, i, resumed, log.With("table", t.Name))
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		report.Interrupted = true
		c.progress.end(messages.LoadRunning) // interrupted: still open
		c.writeProgress(context.WithoutCancel(ctx))
		return report, err
	}
	if err := c.closeLoad(ctx, load, rev, report); err != nil {
		return report, err
	}
	state := messages.LoadIncomplete
	if report.OK() {
		state = messages.LoadCompleted
	}
	c.progress.end(state)
	c.writeProgress(ctx)
	return report, nil
}

func newLoadID() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// openLoad returns the job's load to carry on (interrupted, or ended
// incomplete) unless a full reload is asked for, or records a new one.
// ended is the load before a new one, ended, whose records the caller
// drops.
func (c *Coordinator) openLoad(ctx context.Context) (rec messages.LoadRecord, rev uint64, resumed bool, ended string, err error) {
	for {
		err = c.retry(ctx, "reading job "+c.cfg.Job, func() (err error) {
			rec, rev, err = c.State.Load(ctx, c.cfg.Job)
			return err
		})
		if err != nil && !errors.Is(err, messages.ErrNotFound) {
			return rec, 0, false, "", fmt.Errorf("reading job %s: %w", c.cfg.Job, err)
		}
		if err == nil && rec.State.Open() {
			if !c.cfg.FullReload {
				if rec.State != messages.LoadRunning {
					rec.State = messages.LoadRunning
					if rev, err = c.putLoad(ctx, rec, rev); err != nil {
						return rec, 0, false, "", fmt.Errorf("reopening load %s: %w", rec.LoadID, err)
					}
				}
				return rec, rev, true, "", nil
			}
			// A full reload: the open load is given up, and its records too.
			old := rec
			old.State, old.Ended = messages.LoadAbandoned, time.Now().UTC()
			if rev, err = c.putLoad(ctx, old, rev); err != nil {
				return rec, 0, false, "", fmt.Errorf("abandoning load %s: %w", rec.LoadID, err)
			}
			c.dropLoad(ctx, old.LoadID)
			c.recordHistory(ctx, old)
		}
		next := messages.LoadRecord{LoadID: newLoadID(), Job: c.cfg.Job, State: messages.LoadRunning, Started: time.Now().UTC()}
		nrev, err := c.putLoad(ctx, next, rev)
		if errors.Is(err, messages.ErrConflict) {
			continue // the record moved meanwhile: decide again
		}
		if err != nil {
			return rec, 0, false, "", fmt.Errorf("recording new load: %w", err)
		}
		if rec.LoadID != "" && !rec.State.Open() {
			// The last load's records stay until the next load starts, for
			// whoever looks at how it went; now they go.
			ended = rec.LoadID
		}
		return next, nrev, false, ended, nil
	}
}

// closeLoad records the load's end: completed when every table committed
// (the next run is a new load, which drops this one's records), incomplete
// otherwise (the next run finishes it).
func (c *Coordinator) closeLoad(ctx context.Context, load messages.LoadRecord, rev uint64, report Report) error {
	rec := load
	rec.State, rec.Ended, rec.Tables = messages.LoadIncomplete, time.Now().UTC(), report.summaries()
	if report.OK() {
		rec.State = messages.LoadCompleted
	}
	keepSnapshots(rec.Tables, load.Tables)
	for {
		_, err := c.putLoad(ctx, rec, rev)
		if errors.Is(err, messages.ErrConflict) || errors.Is(err, messages.ErrNotFound) {
			// Restored or rewritten meanwhile (records lost and recreated):
			// write over whatever is there, if it is still this load.
			cur, curRev, gerr := c.State.Load(ctx, c.cfg.Job)
			switch {
			case errors.Is(gerr, messages.ErrNotFound):
				rev = 0
				continue
			case gerr != nil:
				return fmt.Errorf("closing load %s: %w", load.LoadID, gerr)
			case cur.LoadID != load.LoadID:
				return nil
			}
			rev = curRev
			continue
		}
		if err != nil {
			return fmt.Errorf("closing load %s: %w", load.LoadID, err)
		}
		break
	}
	c.recordHistory(ctx, rec)
	return nil
}

// dropLoad removes a finished load's table and file records. Failing to
// costs space only.
func (c *Coordinator) dropLoad(ctx context.Context, load string) {
	if err := c.State.DropLoad(ctx, load); err != nil {
		c.cfg.Logger.Warn("dropping the records of an ended load", "load", load, "err", err)
	}
}

// endedMeanwhile reports a load that another coordinator carried to its end
// while this one waited as a standby: starting a second full load right
// after would surprise whoever started both.
func (c *Coordinator) endedMeanwhile(ctx context.Context, waitedSince time.Time) (Report, bool, error) {
	var rec messages.LoadRecord
	err := c.retry(ctx, "reading job "+c.cfg.Job, func() (err error) {
		rec, _, err = c.State.Load(ctx, c.cfg.Job)
		return err
	})
	if errors.Is(err, messages.ErrNotFound) {
		return Report{}, false, nil
	}
	if err != nil {
		return Report{}, false, fmt.Errorf("reading job %s: %w", c.cfg.Job, err)
	}
	if rec.State.Open() || !rec.Ended.After(waitedSince) {
		return Report{}, false, nil
	}
	c.cfg.Logger.Info("the load ended while this coordinator waited as a standby", "load", rec.LoadID, "state", rec.State)
	return reportFromSummaries(rec), true, nil
}
