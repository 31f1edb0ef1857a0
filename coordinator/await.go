package coordinator

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/s3load/s3load/messages"
)

// errStateRecreated ends a watch whose store was deleted under it.
var errStateRecreated = errors.New("the state store was created again")

// fileView is a file record as the watch last saw it.
type fileView struct {
	rec messages.FileRecord
	rev uint64
}

// view is what one watch of a table's records has seen.
type view struct {
	files    map[string]fileView // by record token
	terminal int
	current  bool // every record that existed when the watch began is in
	// lost are records deleted from the store while the load ran.
	lost []messages.FileRecord
	// counts are the figures of files, for progress.
	counts viewCounts
}

func newView() *view { return &view{files: map[string]fileView{}} }

func (v *view) apply(ev FileEvent) {
	if ev.Current && ev.Token == "" {
		v.current = true
		return
	}
	old, had := v.files[ev.Token]
	if had {
		v.counts.add(old.rec, -1)
		if old.rec.State.Terminal() {
			v.terminal--
		}
	}
	if ev.Deleted {
		if had {
			delete(v.files, ev.Token)
			v.lost = append(v.lost, old.rec)
		}
		return
	}
	v.files[ev.Token] = fileView{rec: ev.Record, rev: ev.Revision}
	v.counts.add(ev.Record, 1)
	if ev.Record.State.Terminal() {
		v.terminal++
	}
}

func (v *view) records() []messages.FileRecord {
	out := make([]messages.FileRecord, 0, len(v.files))
	for _, f := range v.files {
		out = append(out, f.rec)
	}
	return out
}

// unfinished lists the files not yet in a final state.
func (v *view) unfinished() []fileView {
	var out []fileView
	for _, f := range v.files {
		if !f.rec.State.Terminal() {
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].rec.Source.Key < out[j].rec.Source.Key })
	return out
}

// await follows the table's file records until every listed file is in a
// final state, and returns them. Every CheckInterval it checks that the
// load can still get there: JetStream is transport, not the record of
// truth, so a task stream deleted or purged, records deleted, or tasks
// lost are noticed and repaired here, never waited on forever. A file
// that is still being loaded is never taken from its worker, however
// long it takes: only files that nobody holds and no task carries are
// published again.
func (tc *tableRun) await(ctx context.Context) ([]messages.FileRecord, error) {
	c := tc.c
	tick := time.NewTicker(c.cfg.CheckInterval)
	defer tick.Stop()
	chk := &checker{tc: tc, orphans: tc.resumed}
	tc.resumed = false
	for {
		v := newView()
		done, err := tc.follow(ctx, v, tick, chk)
		switch {
		case done:
			return v.records(), nil
		case ctx.Err() != nil:
			return nil, context.Cause(ctx)
		case errors.Is(err, errStateRecreated):
			continue // watch the new store from scratch
		case err != nil && !c.permanent(err):
			// The watch broke (NATS restarting, a leader change, the bucket
			// recreated): follow again from the current records.
			tc.log.Warn("following file states; watching again", "err", err)
			select {
			case <-ctx.Done():
				return nil, context.Cause(ctx)
			case <-time.After(time.Second):
			}
		default:
			return nil, err
		}
	}
}

// follow runs one watch until the table is done, the watch breaks or a
// check fails for good.
func (tc *tableRun) follow(ctx context.Context, v *view, tick *time.Ticker, chk *checker) (bool, error) {
	c := tc.c
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	events := make(chan FileEvent, 256)
	errc := make(chan error, 1)
	go func() { // owned by follow: stop() ends it; errc is buffered.
		errc <- c.State.WatchFiles(wctx, tc.load, tc.t.Name, func(ev FileEvent) error {
			select {
			case events <- ev:
				return nil
			case <-wctx.Done():
				return wctx.Err()
			}
		})
	}()
	for {
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case err := <-errc:
			if err == nil {
				err = errors.New("watch ended")
			}
			return false, err
		case ev := <-events:
			v.apply(ev)
			tc.watched(v, ev)
			if tc.complete(v) {
				return true, nil
			}
			if v.current && chk.orphans {
				chk.orphans = false
				if err := chk.adoptOrphans(ctx, v); err != nil {
					return false, err
				}
			}
		case <-tick.C:
			if !v.current {
				continue
			}
			if err := chk.check(ctx, v); err != nil {
				return false, err
			}
			if tc.complete(v) {
				return true, nil
			}
		}
	}
}

// complete: every record the table should have is there and final.
func (tc *tableRun) complete(v *view) bool {
	want := max(tc.rec.Records, tc.rec.Files)
	return v.current && len(v.files) >= want && v.terminal == len(v.files)
}

// checker carries what one check tells the next.
type checker struct {
	tc *tableRun
	// orphans is set for a resumed load, whose earlier run's tasks may
	// sit delivered to a process that is gone.
	orphans bool
	// suspects were unfinished, unheld and without a task at the last
	// check, since the time noted; still so a check interval later, they
	// are published again.
	suspects map[string]time.Time
	// short counts checks in a row that found fewer records than listed.
	short      int
	lastReport time.Time
	warnedAt   time.Time
}

// check is one round of the repairs await promises.
func (chk *checker) check(ctx context.Context, v *view) error {
	tc := chk.tc
	c := tc.c
	started := time.Now()
	// The state store deleted and created again: every record is gone,
	// and the watch may not have said so. Restore the load's and table's
	// records, and watch afresh: the records missing from the new view are
	// listed again and restored.
	var stateGen time.Time
	if err := c.retry(ctx, "checking the state store", func() (err error) {
		stateGen, err = c.State.Ensure(ctx)
		return err
	}); err != nil {
		return err
	}
	if !stateGen.Equal(tc.stateGen) {
		tc.stateGen = stateGen
		tc.log.Warn("the state store was deleted and created again; restoring the load's records")
		if err := tc.restoreRecords(ctx); err != nil {
			return err
		}
		return errStateRecreated
	}
	if err := tc.restoreRecords(ctx); err != nil {
		return err
	}
	// Records deleted from the store while we watched: restore them.
	if len(v.lost) > 0 {
		lost := v.lost
		v.lost = nil
		tc.log.Warn("file records deleted from the state store; restoring them and loading their files again", "files", len(lost))
		if err := tc.restore(ctx, lost); err != nil {
			return err
		}
	}
	// Records missing that we never saw go (deleted before this watch):
	// list again to restore them.
	if want := max(tc.rec.Records, tc.rec.Files); len(v.files) < want {
		if chk.short++; chk.short >= 2 {
			tc.log.Warn("file records missing from the state store; listing again to restore them", "have", len(v.files), "want", want)
			n, err := c.sync(ctx, tc.load, tc.t, tc.rec.Schema, false)
			if err != nil {
				return err
			}
			if n.records != tc.rec.Records || n.files != tc.rec.Files {
				if err := tc.recordListing(ctx, n); err != nil {
					return err
				}
			}
			chk.short = 0
		}
	} else {
		chk.short = 0
	}
	// The task stream deleted and created again: every task is gone.
	var queueGen time.Time
	if err := c.retry(ctx, "checking the task queue", func() (err error) {
		queueGen, err = c.Queue.Ensure(ctx)
		return err
	}); err != nil {
		return err
	}
	if !queueGen.Equal(tc.queueGen) {
		tc.queueGen = queueGen
		unfinished := v.unfinished()
		tc.log.Warn("the task stream was deleted and created again; publishing every unfinished file again", "files", len(unfinished))
		chk.suspects = nil
		return tc.republish(ctx, unfinished)
	}
	// Tasks lost otherwise (the stream purged, a message deleted): a file
	// that is unfinished, held by no live worker, while no task of the
	// table is left, twice in a row.
	var backlog int
	if err := c.retry(ctx, "checking the task queue", func() (err error) {
		backlog, err = c.Queue.Backlog(ctx, tc.t.Name)
		return err
	}); err != nil {
		return err
	}
	unfinished := v.unfinished()
	chk.report(v, len(unfinished), backlog)
	if backlog > 0 {
		chk.warnIdleFleet(ctx)
	}
	if backlog > 0 || len(unfinished) == 0 || time.Since(started) > c.cfg.CheckInterval {
		// A check that had to wait for the store (an outage) has seen
		// workers unable to announce themselves: conclude nothing from it.
		chk.suspects = nil
		return nil
	}
	held, ok := tc.held(ctx)
	if !ok {
		return nil // who holds what is unknown: publish nothing in doubt
	}
	now := map[string]time.Time{}
	var again []fileView
	for _, f := range unfinished {
		token := f.rec.Token()
		if held[token] {
			continue
		}
		since, seen := chk.suspects[token]
		if !seen {
			since = time.Now()
		}
		now[token] = since
		// A whole interval apart: two checks run back to back after a
		// slow one are not two looks.
		if seen && time.Since(since) >= c.cfg.CheckInterval {
			again = append(again, f)
		}
	}
	chk.suspects = now
	if again = tc.stillUnfinished(ctx, again); len(again) > 0 {
		tc.log.Warn("unfinished files have no task and no worker; publishing them again", "files", len(again))
		for _, f := range again {
			delete(chk.suspects, f.rec.Token())
		}
		return tc.republish(ctx, again)
	}
	return nil
}

// stillUnfinished reads the files' records again and keeps those still
// unfinished, with their current revisions: after an outage the watch can
// lag behind the store, and a file a worker just finished is not to be
// published again.
func (tc *tableRun) stillUnfinished(ctx context.Context, files []fileView) []fileView {
	var out []fileView
	for _, f := range files {
		rec, rev, err := tc.c.State.File(ctx, tc.load, tc.t.Name, f.rec.Token())
		switch {
		case errors.Is(err, messages.ErrNotFound):
			// Gone from the store: the checks restore it.
		case err != nil:
			out = append(out, f) // unknown now: publishing twice is safe
		case !rec.State.Terminal():
			out = append(out, fileView{rec: rec, rev: rev})
		}
	}
	return out
}

// adoptOrphans publishes again, at once, the unfinished files of a resumed
// load that no live worker holds: the run before may have died with tasks
// delivered to it, which the queue would hand out again only after the ack
// wait, so a resume would take that much longer than a fresh start. A
// file a live worker holds keeps it; a task published twice is claimed
// once.
func (chk *checker) adoptOrphans(ctx context.Context, v *view) error {
	held, ok := chk.tc.held(ctx)
	if !ok {
		return nil
	}
	var orphans []fileView
	for _, f := range v.unfinished() {
		if !held[f.rec.Token()] {
			orphans = append(orphans, f)
		}
	}
	if orphans = chk.tc.stillUnfinished(ctx, orphans); len(orphans) == 0 {
		return nil
	}
	chk.tc.log.Info("resumed load: publishing its unfinished files again", "files", len(orphans))
	return chk.tc.republish(ctx, orphans)
}

// progressEvery spaces the coordinator's progress lines.
const progressEvery = 30 * time.Second

// report logs the table's progress now and then.
func (chk *checker) report(v *view, unfinished, backlog int) {
	if time.Since(chk.lastReport) < progressEvery {
		return
	}
	chk.lastReport = time.Now()
	chk.tc.log.Info("table progress", "files", chk.tc.rec.Files, "records", len(v.files), "final", v.terminal,
		"unfinished", unfinished, "queued", backlog)
}

// held lists the record tokens live workers of this job are loading now;
// ok is false when that cannot be told.
func (tc *tableRun) held(ctx context.Context) (held map[string]bool, ok bool) {
	out := map[string]bool{}
	if tc.c.Fleet == nil {
		return out, true
	}
	workers, err := tc.c.Fleet.Workers(ctx, tc.c.cfg.Job)
	if err != nil {
		tc.log.Debug("reading the workers' announcements", "err", err)
		return nil, false
	}
	for _, w := range workers {
		if time.Since(w.Updated) > tc.c.cfg.WorkerTimeout {
			continue
		}
		for _, h := range w.Holding {
			if h.LoadID == tc.load && h.Table == tc.t.Name {
				out[h.Token] = true
			}
		}
	}
	return out, true
}

// warnIdleFleet says so when tasks wait, no live worker runs this job, and
// workers of other jobs are alive: their config differs from this one, and
// the warning names the difference.
func (chk *checker) warnIdleFleet(ctx context.Context) {
	c := chk.tc.c
	if c.Fleet == nil || time.Since(chk.warnedAt) < time.Minute {
		return
	}
	workers, err := c.Fleet.Workers(ctx, "*")
	if err != nil {
		return
	}
	var others []string
	for _, w := range workers {
		if time.Since(w.Updated) > c.cfg.WorkerTimeout {
			continue
		}
		if w.Job == c.cfg.Job {
			return
		}
		diff := messages.DescribeDiff(messages.Diff(c.cfg.Spec, w.Spec), "coordinator", "worker", 4)
		others = append(others, fmt.Sprintf("worker %s on %s runs job %s, whose config differs: %s", w.ID, w.Host, w.Job, diff))
	}
	if len(others) == 0 {
		return
	}
	chk.warnedAt = time.Now()
	chk.tc.log.Warn(fmt.Sprintf("tasks wait, but no worker runs this job %s; %s. Start workers with this coordinator's config",
		c.cfg.Job, strings.Join(others, "; ")))
}

// republish publishes files' tasks again, with fresh IDs.
func (tc *tableRun) republish(ctx context.Context, files []fileView) error {
	tfs := make([]messages.TaskFile, len(files))
	for i, f := range files {
		// A file to be copied from a committed part still is.
		tfs[i] = messages.TaskFile{Source: f.rec.Source, Range: f.rec.Range, Revision: f.rev, From: f.rec.From}
	}
	return tc.c.publish(ctx, tc.load, tc.t.Name, tfs, true, nil)
}

// restore creates records that were deleted from the store again, as
// listed, and publishes their files: a part already written for one is
// adopted by its worker rather than loaded again.
func (tc *tableRun) restore(ctx context.Context, lost []messages.FileRecord) error {
	recs := make([]messages.FileRecord, len(lost))
	now := time.Now().UTC()
	for i, r := range lost {
		recs[i] = messages.FileRecord{LoadID: r.LoadID, Table: r.Table, Source: r.Source, Range: r.Range, From: r.From, State: messages.StateListed, Updated: now}
	}
	var revs []uint64
	if err := tc.c.retry(ctx, "restoring deleted file records", func() (err error) {
		revs, err = tc.c.State.CreateFiles(ctx, recs)
		return err
	}); err != nil {
		return err
	}
	var tfs []messages.TaskFile
	for i, r := range recs {
		if revs[i] != 0 {
			tfs = append(tfs, messages.TaskFile{Source: r.Source, Range: r.Range, Revision: revs[i], From: r.From})
		}
	}
	return tc.c.publish(ctx, tc.load, tc.t.Name, tfs, true, nil)
}

// restoreRecords writes the load's and the table's records again if the
// store lost them (a bucket deleted and recreated under the load).
func (tc *tableRun) restoreRecords(ctx context.Context) error {
	c := tc.c
	_, _, err := c.State.Table(ctx, tc.load, tc.t.Name)
	if !errors.Is(err, messages.ErrNotFound) {
		return nil // there, or the store is away: nothing to restore now
	}
	tc.log.Warn("the table's record is gone from the state store; restoring it")
	tc.rev = 0
	if err := tc.putRecord(ctx); err != nil {
		return fmt.Errorf("restoring the table record: %w", err)
	}
	if _, _, err := c.State.Load(ctx, c.cfg.Job); errors.Is(err, messages.ErrNotFound) {
		rec := messages.LoadRecord{LoadID: tc.load, Job: c.cfg.Job, State: messages.LoadRunning, Started: tc.started.UTC()}
		if _, err := c.State.PutLoad(ctx, rec, 0); err != nil && !errors.Is(err, messages.ErrConflict) {
			return fmt.Errorf("restoring the load record: %w", err)
		}
	}
	return nil
}
