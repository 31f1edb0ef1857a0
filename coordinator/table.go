package coordinator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/s3load/s3load/messages"
)

// maxRounds bounds the reloads of one table (stranded batch files, split
// files loaded again whole, parts the commit found missing): each round
// fixes what the one before found, so needing more means something keeps
// breaking.
const maxRounds = 10

// runTable lists, publishes, reconciles and commits one table, and says in
// its report how that went. It never fails the load: what goes wrong stays
// in the table's report, and only ctx ending stops it early.
func (c *Coordinator) runTable(ctx context.Context, l *lease, load string, i int, resumed bool, log *slog.Logger) TableReport {
	t := c.cfg.Tables[i]
	tc := &tableRun{c: c, lease: l, load: load, t: t, idx: i, log: log, started: time.Now()}
	rep, err := tc.run(ctx, resumed)
	rep.Name, rep.Duration = t.Name, time.Since(tc.started)
	if err != nil {
		if cause := context.Cause(ctx); cause != nil {
			err = fmt.Errorf("%w (%v)", err, cause)
		}
		rep.Error = err.Error()
		log.Error("table not committed", "err", err)
	}
	c.progress.ended(i, rep)
	return rep
}

// tableRun is one table's run within a load.
type tableRun struct {
	c       *Coordinator
	lease   *lease
	load    string
	t       Table
	idx     int // the table's place in the config, for progress
	log     *slog.Logger
	started time.Time

	rec messages.TableRecord
	rev uint64
	// reused counts files a resumed load kept from its earlier run, or a
	// new load from the table's committed load; rewrites, those of them a
	// new load copies from parts it rewrites.
	reused, rewrites int
	// keptParts are the committed parts the load keeps (listing.keptParts).
	keptParts map[string]bool
	// resumed: this run carries on a load an earlier run began.
	resumed bool
	// prev is the table's committed load, for reuse (see previous).
	prev     *PreviousLoad
	prevRead bool
	// queueGen and stateGen are the generations of the queue and the state
	// store as this table's run last saw them, from its start: a new one
	// means all of its tasks, or all of its records, were lost.
	queueGen, stateGen time.Time
}

func (tc *tableRun) run(ctx context.Context, resumed bool) (TableReport, error) {
	c, t := tc.c, tc.t
	tc.resumed = resumed
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// A new load always lists the table (a resumed one may not need to).
	var ahead *liveListing
	if !resumed {
		ahead = tc.listAhead(ctx)
		defer ahead.stop()
	}
	swept := func() {}
	if c.Locker != nil {
		lock, err := tc.lock(ctx)
		if err != nil {
			return TableReport{}, err
		}
		stop := tc.keepLock(ctx, lock, cancel)
		defer stop()
		swept = tc.sweep(ctx)
		defer swept()
	}
	if err := tc.generations(ctx); err != nil {
		return TableReport{}, err
	}
	if err := tc.openRecord(ctx); err != nil {
		return TableReport{}, err
	}
	if tc.rec.Committed {
		// Committed in an earlier run of this load: nothing to do again.
		files, err := tc.files(ctx)
		if err != nil {
			return TableReport{}, err
		}
		rep := summarize(t.Name, tc.rec, files)
		rep.Committed, rep.Reused = true, rep.Loaded
		if err := tc.commitRejects(ctx, &rep); err != nil {
			rep.RejectsError = err.Error()
		}
		return rep, nil
	}
	// listed keeps the pre-flight's listing for the table's listing; a
	// table whose pre-flight ran in an earlier run lists the store again.
	var listed [][]messages.Source
	if len(tc.rec.Schema) == 0 {
		c.progress.phase(tc.idx, messages.PhasePreflight)
		var schema []byte
		var pf *messages.Preflight
		var failures []messages.ManifestFailure
		var err error
		schema, pf, failures, listed, err = c.preflightListed(ctx, tc.load, t, tc.log, tc.knownFiles(ctx), ahead)
		if err != nil {
			rep := TableReport{Files: len(failures), Failed: len(failures), Failures: failures}
			return rep, err
		}
		tc.rec.Schema, tc.rec.Preflight, tc.rec.Updated = schema, pf, time.Now().UTC()
		if err := tc.prepare(ctx); err != nil {
			return TableReport{}, err
		}
		if err := tc.putRecord(ctx); err != nil {
			return TableReport{}, fmt.Errorf("recording schema: %w", err)
		}
	}
	c.progress.phase(tc.idx, messages.PhaseListing)
	switch {
	case !tc.rec.Listed:
		n, err := c.listAndPublish(ctx, tc.load, t, tc.rec.Schema, rejectedFiles(tc.rec.Preflight), listed, tc.planReuse(ctx), tc.log)
		if err != nil {
			return TableReport{}, err
		}
		tc.reused, tc.rewrites, tc.keptParts = n.reused, n.rewrites, n.keptParts
		if err := tc.recordListing(ctx, n); err != nil {
			return TableReport{}, err
		}
		tc.log.Info("table listed", "files", n.files, "skipped", n.skipped, "reused", n.reused)
	case resumed:
		// A load finished later: list again, keep what loaded, try again
		// what did not, and follow the bucket's changes since.
		if err := tc.prepareAgain(ctx); err != nil {
			return TableReport{}, err
		}
		n, err := c.sync(ctx, tc.load, t, tc.rec.Schema, true)
		if err != nil {
			return TableReport{}, err
		}
		tc.reused = n.kept
		if err := tc.recordListing(ctx, n); err != nil {
			return TableReport{}, err
		}
		tc.log.Info("table resumed", "files", n.files, "kept", n.kept, "to_load", n.published)
	}
	if tc.rec.Files == 0 && !t.AllowEmpty {
		return TableReport{Skipped: tc.rec.Skipped}, Permanent(c.emptyListing(ctx, t, tc.rec.Skipped))
	}

	c.progress.listed(tc.idx, tc.rec, tc.reused)
	c.progress.phase(tc.idx, messages.PhaseLoading)
	swept()
	rep, err := tc.reconcileAndCommit(ctx)
	// A file meant to be copied from a rewritten part that a worker read
	// from the source instead (the part was gone) was loaded, not reused.
	rep.Reused = tc.reused - (tc.rewrites - min(rep.copied, tc.rewrites))
	return rep, err
}

// prepare asks the table format how the load will be written and where
// the table stands, once per load: a resumed load keeps what its first run
// recorded, so a commit made since by anyone else is found at commit.
func (tc *tableRun) prepare(ctx context.Context) error {
	var got Prepared
	err := tc.c.retry(ctx, "preparing table "+tc.t.Name, func() (err error) {
		got, err = tc.c.Committer.Prepare(ctx, PrepareRequest{Table: tc.t.Name, LoadID: tc.load, Schema: tc.rec.Schema})
		return err
	})
	if err != nil {
		return fmt.Errorf("preparing the table: %w", err)
	}
	tc.rec.WriteSchema, tc.rec.Base, tc.rec.SchemaChanges = got.WriteSchema, got.Base, got.Changes
	for _, ch := range got.Changes {
		tc.log.Info("schema change", "change", ch)
	}
	return tc.prepareRejects(ctx)
}

// prepareAgain brings a resumed load's base up to date: this run holds the
// job and lists the bucket anew, so it replaces whatever the table holds
// now, as a new load would (a zombie of an older run still cannot commit:
// its base is older). The parts already written stay valid only if the
// table's schema did not move; if it did, the load must start over.
func (tc *tableRun) prepareAgain(ctx context.Context) error {
	if len(tc.rec.WriteSchema) == 0 { // nothing written depends on the table's schema
		return nil
	}
	write, base := tc.rec.WriteSchema, tc.rec.Base
	if err := tc.prepare(ctx); err != nil {
		return err
	}
	if string(tc.rec.WriteSchema) != string(write) {
		return Permanent(fmt.Errorf("the table's schema changed since this load began, so the parts it wrote have other field IDs: run again with --full-reload"))
	}
	if tc.rec.Base != base {
		tc.log.Info("the table moved since this load began; the resumed load replaces it", "was", base, "now", tc.rec.Base)
		tc.rec.Updated = time.Now().UTC()
		if err := tc.putRecord(ctx); err != nil {
			return fmt.Errorf("recording the table's base: %w", err)
		}
	}
	return nil
}

// lock takes the table in the target for this load.
func (tc *tableRun) lock(ctx context.Context) (TableLock, error) {
	owner := TableOwner{Job: tc.c.cfg.Job, Load: tc.load, Holder: tc.c.cfg.Holder}
	var lock TableLock
	err := tc.c.retry(ctx, "locking table "+tc.t.Name, func() (err error) {
		lock, err = tc.c.Locker.LockTable(ctx, tc.t.Name, owner)
		if errors.Is(err, ErrTableBusy) {
			return final{err}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return lock, nil
}

// sweep removes, as the lock holder, what earlier loads of the table left
// in the staging area: parts of failed or abandoned loads would hold space
// forever. It runs beside the pre-flight and the listing, which touch none
// of it; the returned wait blocks until it is done, and run calls it before
// anything is committed.
func (tc *tableRun) sweep(ctx context.Context) (wait func()) {
	done := make(chan struct{})
	go func() { // owned by wait, which run calls before it commits or returns.
		defer close(done)
		if err := tc.c.Locker.Sweep(ctx, tc.t.Name, tc.load); err != nil {
			tc.log.Warn("removing what earlier loads left in the staging area", "err", err)
		}
		if len(tc.t.RejectsSchema) > 0 {
			if err := tc.c.Locker.Sweep(ctx, messages.RejectsTable(tc.t.Name), tc.load); err != nil {
				tc.log.Warn("removing what earlier loads left in the reject table's staging area", "err", err)
			}
		}
	}()
	return func() { <-done }
}

// keepLock renews the table lock until the returned stop is called, and
// cancels the table's run if another load took the table.
func (tc *tableRun) keepLock(ctx context.Context, lock TableLock, cancel context.CancelCauseFunc) (stop func()) {
	kctx, stopKeep := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { // owned by stop below.
		defer close(done)
		t := time.NewTicker(TableLockTTL / 4)
		defer t.Stop()
		for {
			select {
			case <-kctx.Done():
				return
			case <-t.C:
			}
			if err := lock.Renew(kctx); err != nil && kctx.Err() == nil {
				if tc.c.permanent(err) || errors.Is(err, ErrTableBusy) || errors.Is(err, ErrTableLockLost) {
					cancel(fmt.Errorf("lost the lock of table %s: %w", tc.t.Name, err))
					return
				}
				tc.log.Warn("renewing the table lock", "err", err)
			}
		}
	}()
	return func() {
		stopKeep()
		<-done
		rctx, cancelRelease := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancelRelease()
		if err := lock.Release(rctx); err != nil {
			tc.log.Warn("releasing the table lock", "err", err)
		}
	}
}

// generations notes the queue's and the state store's generations before
// anything of this table is written to them, so that losing either later
// is noticed.
func (tc *tableRun) generations(ctx context.Context) error {
	c := tc.c
	return c.retry(ctx, "checking the queue and the state store", func() (err error) {
		if tc.queueGen, err = c.Queue.Ensure(ctx); err != nil {
			return err
		}
		tc.stateGen, err = c.State.Ensure(ctx)
		return err
	})
}

// openRecord reads the table's record in this load, or creates it.
func (tc *tableRun) openRecord(ctx context.Context) error {
	c := tc.c
	err := c.retry(ctx, "reading table "+tc.t.Name, func() (err error) {
		tc.rec, tc.rev, err = c.State.Table(ctx, tc.load, tc.t.Name)
		return err
	})
	if errors.Is(err, messages.ErrNotFound) {
		tc.rec = messages.TableRecord{LoadID: tc.load, Table: tc.t.Name, Updated: time.Now().UTC()}
		tc.rev = 0
		err = tc.putRecord(ctx)
	}
	if err != nil {
		return fmt.Errorf("opening table record: %w", err)
	}
	return nil
}

// putRecord writes the table's record over the revision last read or
// written; a record lost from the store is written again.
func (tc *tableRun) putRecord(ctx context.Context) error {
	rev, err := tc.c.putTable(ctx, tc.rec, tc.rev)
	if errors.Is(err, messages.ErrConflict) && tc.rev != 0 {
		// Only the lease holder writes this record, so a conflict means the
		// store lost it and this coordinator's repair wrote it again (or it
		// is gone again): write over what is there.
		cur, curRev, gerr := tc.c.State.Table(ctx, tc.load, tc.t.Name)
		switch {
		case errors.Is(gerr, messages.ErrNotFound):
			rev, err = tc.c.putTable(ctx, tc.rec, 0)
		case gerr == nil && !cur.Committed:
			rev, err = tc.c.putTable(ctx, tc.rec, curRev)
		}
	}
	if err != nil {
		return err
	}
	tc.rev = rev
	return nil
}

func (tc *tableRun) recordListing(ctx context.Context, n listing) error {
	tc.rec.Listed, tc.rec.Files, tc.rec.Records, tc.rec.Skipped, tc.rec.Updated = true, n.files, n.records, n.skipped, time.Now().UTC()
	if pf := tc.rec.Preflight; pf != nil {
		pf.Rejected = nil // recorded failed as they were listed
	}
	if err := tc.putRecord(ctx); err != nil {
		return fmt.Errorf("recording listing: %w", err)
	}
	return nil
}

// files reads the table's file records.
func (tc *tableRun) files(ctx context.Context) ([]messages.FileRecord, error) {
	var files []messages.FileRecord
	err := tc.c.retry(ctx, "reading the files of "+tc.t.Name, func() (err error) {
		files, err = tc.c.State.Files(ctx, tc.load, tc.t.Name)
		return err
	})
	return files, err
}

// reconcileAndCommit waits for every file to be final, loads again what a
// batch, a split or a commit found wanting, and commits.
func (tc *tableRun) reconcileAndCommit(ctx context.Context) (TableReport, error) {
	c, t := tc.c, tc.t
	var report TableReport
	for round := 1; ; round++ {
		files, err := tc.await(ctx)
		if err != nil {
			return TableReport{Files: tc.rec.Files, Skipped: tc.rec.Skipped}, err
		}
		stranded, unsplit := strandedFiles(files), failedSplits(files)
		if len(stranded)+len(unsplit) > 0 {
			if round > maxRounds {
				return summarize(t.Name, tc.rec, files), fmt.Errorf("after %d rounds of reloads, %d files still sit in incomplete batch parts and %d split files still have a failed range",
					maxRounds, len(stranded), len(unsplit))
			}
			if err := c.reload(ctx, tc.load, t.Name, stranded, round, tc.log); err != nil {
				return summarize(t.Name, tc.rec, files), err
			}
			if err := c.unsplit(ctx, tc.load, t.Name, unsplit, round, tc.log); err != nil {
				return summarize(t.Name, tc.rec, files), err
			}
			continue
		}
		report = summarize(t.Name, tc.rec, files)
		if report.FailedFiles() > c.cfg.MaxFailedFiles {
			return report, fmt.Errorf("%d files failed or changed (max_failed_files is %d): table not committed, the previous commit stays",
				report.FailedFiles(), c.cfg.MaxFailedFiles)
		}
		if err := tc.rejectsOverLimit(report); err != nil {
			return report, err
		}
		// Only the job's one coordinator commits.
		if err := tc.lease.confirm(ctx); err != nil {
			return report, err
		}
		c.progress.phase(tc.idx, messages.PhaseCommitting)
		result, err := tc.commit(ctx, report)
		var missing *PartsError
		if errors.As(err, &missing) && round <= maxRounds {
			tc.log.Warn("parts missing at commit; loading their files again", "parts", len(missing.Parts), "err", err)
			tc.uncountKept(files, missing.Parts)
			if err := c.reloadParts(ctx, tc.load, t.Name, files, missing.Parts, round); err != nil {
				return report, err
			}
			c.progress.phase(tc.idx, messages.PhaseLoading)
			continue
		}
		if err != nil {
			return report, fmt.Errorf("committing: %w", err)
		}
		tc.rec.Committed, tc.rec.Updated = true, time.Now().UTC()
		if err := tc.putRecord(ctx); err != nil {
			return report, fmt.Errorf("recording commit: %w", err)
		}
		report.Committed, report.Rows = true, result.Manifest.Rows
		report.Snapshot, report.MetadataLocation = result.Snapshot, result.MetadataLocation
		report.SchemaChanges = tc.rec.SchemaChanges
		tc.log.Info("table committed", "rows", result.Manifest.Rows, "files", len(result.Manifest.Files),
			"snapshot", result.Snapshot, "took", time.Since(tc.started).Round(time.Millisecond))
		if err := tc.commitRejects(ctx, &report); err != nil {
			report.RejectsError = err.Error()
			tc.log.Error("rejected rows not committed", "err", err)
		}
		return report, nil
	}
}

// uncountKept stops counting as reused the files of kept committed parts that
// the commit found missing or wrong: they are loaded from the source.
func (tc *tableRun) uncountKept(files []messages.FileRecord, parts []string) {
	for _, p := range parts {
		if !tc.keptParts[p] {
			continue
		}
		delete(tc.keptParts, p)
		for _, f := range files {
			if f.State == messages.StateLoaded && f.Part == p {
				tc.reused--
			}
		}
	}
}

// commit commits the table, retrying passing errors: the commit is
// idempotent (the same parts, the same manifest), so trying again after an
// unknown outcome is safe, and the target checks what landed.
func (tc *tableRun) commit(ctx context.Context, report TableReport) (CommitResult, error) {
	c := tc.c
	var m CommitResult
	req := CommitRequest{Table: tc.t.Name, LoadID: tc.load, Schema: tc.rec.Schema, WriteSchema: tc.rec.WriteSchema,
		Base: tc.rec.Base, Loaded: report.loaded, Failed: report.failed, Fingerprint: c.Fingerprint(tc.idx, tc.rec)}
	if c.Splits != nil {
		req.ListSplits = commitSplits(report)
	}
	err := tc.c.retry(ctx, "committing "+tc.t.Name, func() (err error) {
		m, err = tc.c.Committer.Commit(ctx, req)
		var missing *PartsError
		if errors.As(err, &missing) {
			return final{err}
		}
		return err
	})
	return m, err
}

// emptyListing explains a table whose listing matched no file: a typo in
// a prefix must not quietly replace a good table with an empty one.
func (c *Coordinator) emptyListing(ctx context.Context, t Table, skipped int) error {
	where := fmt.Sprintf("s3://%s/%s", c.cfg.Bucket, t.Prefix)
	var msg string
	switch {
	case t.Glob != "":
		msg = fmt.Sprintf("glob %q matched no file under %s", t.Glob, where)
	case skipped > 0:
		msg = fmt.Sprintf("no data file under %s (%d objects skipped: folder markers, _SUCCESS, names starting with _ or .)", where, skipped)
	default:
		msg = fmt.Sprintf("prefix %q matched no object in bucket %s", t.Prefix, c.cfg.Bucket)
		if s, ok := c.Lister.(PrefixSuggester); ok {
			if near, err := s.SuggestPrefix(ctx, c.cfg.Bucket, t.Prefix); err == nil && near != "" && near != t.Prefix {
				msg += fmt.Sprintf("; did you mean %q?", near)
			}
		}
	}
	return fmt.Errorf("%s: table not committed, its previous commit stays (set allow_empty: true to commit an empty table)", msg)
}

// watched passes what the table's watch saw on to its progress.
func (tc *tableRun) watched(v *view, ev FileEvent) {
	tc.c.progress.watched(tc.idx, v)
	if !ev.Deleted && (ev.Record.State == messages.StateFailed || ev.Record.State == messages.StateChanged) {
		tc.c.progress.failure(tc.idx, ev.Record)
	}
}
