package coordinator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/s3load/s3load/messages"
)

// runTable lists, publishes, reconciles and commits one table.
func (c *Coordinator) runTable(ctx context.Context, load string, t Table, log *slog.Logger) (TableReport, error) {
	started := time.Now()
	var rec messages.TableRecord
	var rev uint64
	err := c.retry(ctx, "reading table "+t.Name, func() (err error) {
		rec, rev, err = c.state.Table(ctx, load, t.Name)
		return err
	})
	if errors.Is(err, messages.ErrNotFound) {
		rec = messages.TableRecord{LoadID: load, Table: t.Name, Updated: time.Now().UTC()}
		rev, err = c.putTable(ctx, rec, 0)
	}
	if err != nil {
		return TableReport{}, fmt.Errorf("opening table record: %w", err)
	}
	if len(rec.Schema) == 0 {
		schema, err := c.tableSchema(ctx, t)
		var unreadable *unreadableError
		if errors.As(err, &unreadable) {
			return TableReport{Name: t.Name, Error: err.Error(), Duration: time.Since(started)}, nil
		}
		if err != nil {
			return TableReport{}, err
		}
		rec.Schema, rec.Updated = schema, time.Now().UTC()
		if rev, err = c.putTable(ctx, rec, rev); err != nil {
			return TableReport{}, fmt.Errorf("recording schema: %w", err)
		}
	}

	if !rec.Listed {
		files, records, skipped, err := c.listAndPublish(ctx, load, t, rec.Schema)
		if err != nil {
			return TableReport{}, err
		}
		rec.Listed, rec.Files, rec.Records, rec.Skipped, rec.Updated = true, files, records, skipped, time.Now().UTC()
		if rev, err = c.putTable(ctx, rec, rev); err != nil {
			return TableReport{}, fmt.Errorf("recording listing: %w", err)
		}
		log.Info("table listed", "files", files, "skipped", skipped)
	} else {
		log.Info("resuming table", "files", rec.Files)
	}

	files, err := c.await(ctx, load, t, rec, log)
	for round := 1; err == nil; round++ {
		stranded := strandedFiles(files)
		unsplit := failedSplits(files)
		if len(stranded) == 0 && len(unsplit) == 0 {
			break
		}
		if round > 10 {
			err = fmt.Errorf("after %d rounds of reloads, %d files still sit in incomplete batch parts and %d split files still have a failed range", round-1, len(stranded), len(unsplit))
			break
		}
		if err = c.reload(ctx, load, t.Name, rec.Schema, stranded, round, log); err != nil {
			break
		}
		if err = c.unsplit(ctx, load, t.Name, rec.Schema, unsplit, round, log); err != nil {
			break
		}
		files, err = c.await(ctx, load, t, rec, log)
	}
	if err != nil {
		return TableReport{}, err
	}
	report := summarize(t.Name, rec, files, time.Since(started))
	if rec.Committed {
		report.Committed = true
		return report, nil
	}
	if report.FailedFiles() > c.cfg.MaxFailedFiles {
		report.Error = fmt.Sprintf("%d files failed or changed (max_failed_files is %d): table not committed, the previous commit stays",
			report.FailedFiles(), c.cfg.MaxFailedFiles)
		return report, nil
	}
	manifest, err := c.committer.Commit(ctx, CommitRequest{
		Table: t.Name, LoadID: load, Schema: rec.Schema, Loaded: report.loaded, Failed: report.failed,
	})
	if err != nil {
		return report, fmt.Errorf("committing: %w", err)
	}
	rec.Committed, rec.Updated = true, time.Now().UTC()
	if _, err := c.putTable(ctx, rec, rev); err != nil {
		return report, fmt.Errorf("recording commit: %w", err)
	}
	report.Committed, report.Rows = true, manifest.Rows
	report.Duration = time.Since(started)
	log.Info("table committed", "rows", manifest.Rows, "files", len(manifest.Files))
	return report, nil
}

// tableSchema is the declared schema, or the schema of the first file that
// can be read. A bad first file does not doom the table: up to a few files
// are tried, and the bad ones fail on their own when loaded.
func (c *Coordinator) tableSchema(ctx context.Context, t Table) ([]byte, error) {
	if len(t.Schema) > 0 {
		return t.Schema, nil
	}
	var errs []error
	var schema []byte
	errFound := errors.New("found")
	probe := c.probeFirst(ctx, t, &schema, &errs, errFound)
	err := c.retry(ctx, "listing "+t.Prefix, func() error {
		errs = errs[:0]
		return c.lister.List(ctx, c.cfg.Bucket, t.Prefix, "", probe)
	})
	if err != nil && !errors.Is(err, errFound) {
		return nil, fmt.Errorf("listing to infer schema: %w", err)
	}
	if schema == nil && len(errs) > 0 {
		return nil, &unreadableError{fmt.Errorf("inferring the schema from the first %d files: %w", len(errs), errors.Join(errs...))}
	}
	// No file at all: the table commits empty, with an empty schema.
	return schema, nil
}

func (c *Coordinator) probeFirst(ctx context.Context, t Table, schema *[]byte, errs *[]error, errFound error) func([]messages.Source) error {
	const maxProbes = 5
	return func(page []messages.Source) error {
		for _, src := range page {
			if !c.eligible(t, src) {
				continue
			}
			s, err := c.probe(ctx, t.Name, src)
			if err == nil {
				*schema = s
				return final{errFound}
			}
			*errs = append(*errs, err)
			if len(*errs) == maxProbes {
				return final{errFound}
			}
		}
		return nil
	}
}

// probeTries bounds the tries of one file's probe: a store that keeps
// failing one object should not stall the table, and the next file may do.
const probeTries = 5

// probe infers a schema from one file, trying again after an error that is
// not the file's fault: under a flaky store, five resets in a row must not
// leave a table of good files uncommitted as "unreadable".
func (c *Coordinator) probe(ctx context.Context, table string, src messages.Source) ([]byte, error) {
	var schema []byte
	tries := 0
	err := c.retry(ctx, "probing the schema of "+src.String(), func() (err error) {
		schema, err = c.prober.ProbeSchema(ctx, table, src)
		if tries++; err != nil && (errors.Is(err, ErrBadFile) || tries == probeTries) {
			return final{err}
		}
		return err
	})
	return schema, err
}

func (c *Coordinator) eligible(t Table, src messages.Source) bool {
	if t.Match != nil && !t.Match(relKey(t.Prefix, src.Key)) {
		return false
	}
	return c.cfg.SkipReason(src.Key, src.Size) == ""
}

// listAndPublish records and publishes every file of the table, page by
// page, so publishing starts with the first page; each page's records and
// tasks go out pipelined, one round trip per page. Re-running it after a
// crash is safe: existing records are kept, finished files are not published
// again, and unfinished ones are deduplicated by the queue.
func (c *Coordinator) listAndPublish(ctx context.Context, load string, t Table, schema []byte) (files, records, skipped int, err error) {
	// A listing the store keeps refusing (throttling past the client's own
	// retries) resumes after the last page handled, not from the start.
	after := ""
	err = c.retry(ctx, "listing "+t.Prefix, func() error {
		return c.lister.List(ctx, c.cfg.Bucket, t.Prefix, after, func(page []messages.Source) error {
			n, r, s, err := c.publishPage(ctx, load, t, schema, page)
			if err != nil {
				return final{err}
			}
			files, records, skipped, after = files+n, records+r, skipped+s, page[len(page)-1].Key
			return nil
		})
	})
	if err != nil {
		return 0, 0, 0, fmt.Errorf("listing and publishing: %w", err)
	}
	return files, records, skipped, nil
}

// ranges splits a big file into ranges of about SplitBytes, or returns nil
// to load it whole.
func (c *Coordinator) ranges(ctx context.Context, table string, schema []byte, src messages.Source) []*messages.Range {
	if c.cfg.SplitBytes <= 0 || src.Size <= c.cfg.SplitBytes || c.cfg.Splittable == nil || !c.cfg.Splittable(ctx, table, schema, src) {
		return nil
	}
	n := int((src.Size + c.cfg.SplitBytes - 1) / c.cfg.SplitBytes)
	out := make([]*messages.Range, n)
	for i := range n {
		out[i] = &messages.Range{Index: i, Count: n, Start: src.Size * int64(i) / int64(n), End: src.Size * int64(i+1) / int64(n)}
	}
	return out
}

// final marks an error that retrying the operation around it cannot help:
// it was retried where it happened.
type final struct{ err error }

func (f final) Error() string { return f.err.Error() }
func (f final) Unwrap() error { return f.err }

// publishPage records and publishes the eligible files of one page.
func (c *Coordinator) publishPage(ctx context.Context, load string, t Table, schema []byte, page []messages.Source) (files, records, skipped int, err error) {
	var recs []messages.FileRecord
	now := time.Now().UTC()
	for _, src := range page {
		// Markers count as skipped even where the glob would not match
		// them: the report accounts for everything in the folder that looks
		// like part of the table.
		if c.cfg.SkipReason(src.Key, src.Size) != "" {
			skipped++
			continue
		}
		if t.Match != nil && !t.Match(relKey(t.Prefix, src.Key)) {
			continue
		}
		files++
		rec := messages.FileRecord{LoadID: load, Table: t.Name, Source: src, State: messages.StateListed, Updated: now}
		rs := c.ranges(ctx, t.Name, schema, src)
		if rs == nil {
			recs = append(recs, rec)
			continue
		}
		for _, r := range rs {
			rec.Range = r
			recs = append(recs, rec)
		}
	}
	return files, len(recs), skipped, c.recordAndPublish(ctx, load, t.Name, recs, schema)
}

// recordAndPublish creates the records of one page of files, then publishes
// a task for each file that is not finished: a record is always written
// before its task, so a worker never meets a task without a record.
func (c *Coordinator) recordAndPublish(ctx context.Context, load, table string, recs []messages.FileRecord, schema []byte) error {
	if len(recs) == 0 {
		return nil
	}
	var revs []uint64
	if err := c.retry(ctx, "recording a page of files", func() (err error) {
		revs, err = c.state.CreateFiles(ctx, recs)
		return err
	}); err != nil {
		return err
	}
	files := make([]messages.TaskFile, 0, len(recs))
	for i, rec := range recs {
		src, rev := rec.Source, revs[i]
		if rev == 0 { // recorded by an earlier run of this load
			var existing messages.FileRecord
			if err := c.retry(ctx, "reading "+src.String(), func() (err error) {
				existing, rev, err = c.state.File(ctx, load, table, rec.Token())
				return err
			}); err != nil {
				return err
			}
			if existing.State.Terminal() {
				continue
			}
			// Listed again with a new ETag means the object changed
			// mid-load: keep the first listing; the pinned read reports it.
			src, rec.Range = existing.Source, existing.Range
		}
		files = append(files, messages.TaskFile{Source: src, Range: rec.Range, Revision: rev})
	}
	tasks := c.batch(load, table, schema, files)
	return c.retry(ctx, "publishing a page of tasks", func() error { return c.publisher.Publish(ctx, tasks...) })
}

// batch makes the tasks of one page: small files share tasks, up to
// BatchFiles each; larger files get one each.
func (c *Coordinator) batch(load, table string, schema []byte, files []messages.TaskFile) []messages.Task {
	var tasks []messages.Task
	task := func(fs []messages.TaskFile) messages.Task {
		return messages.Task{ID: messages.TaskID(load, fs), LoadID: load, Table: table, Files: fs, Schema: schema}
	}
	var small []messages.TaskFile
	for _, f := range files {
		if f.Range != nil || f.Source.Size > c.cfg.SmallFileBytes || c.cfg.BatchFiles == 1 {
			tasks = append(tasks, task([]messages.TaskFile{f}))
			continue
		}
		small = append(small, f)
		if len(small) == c.cfg.BatchFiles {
			tasks = append(tasks, task(small))
			small = nil
		}
	}
	if len(small) > 0 {
		tasks = append(tasks, task(small))
	}
	return tasks
}

// retry runs op until it succeeds, ctx ends or RetryFor passes: the queue
// and the state store are briefly away when NATS restarts or a cluster
// elects a new leader, and a load should wait that out, not fail. A
// conflict or a missing record is an answer, not an outage: it returns.
func (c *Coordinator) retry(ctx context.Context, what string, op func() error) error {
	deadline := time.Now().Add(c.cfg.RetryFor)
	wait := 100 * time.Millisecond
	for {
		err := op()
		var fin final
		if err == nil || errors.Is(err, messages.ErrConflict) || errors.Is(err, messages.ErrNotFound) ||
			errors.As(err, &fin) || ctx.Err() != nil || time.Now().After(deadline) {
			return err
		}
		c.cfg.Logger.Warn("retrying", "op", what, "err", err, "in", wait)
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
	return putRetried(ctx, c, "recording table "+rec.Table, rec, rev, c.state.PutTable,
		func(ctx context.Context) (messages.TableRecord, uint64, error) {
			return c.state.Table(ctx, rec.LoadID, rec.Table)
		})
}

// putLoad writes the job's load record with retries; see putRetried.
func (c *Coordinator) putLoad(ctx context.Context, rec messages.LoadRecord, rev uint64) (uint64, error) {
	return putRetried(ctx, c, "recording load "+rec.LoadID, rec, rev, c.state.PutLoad,
		func(ctx context.Context) (messages.LoadRecord, uint64, error) {
			return c.state.Load(ctx, rec.Job)
		})
}

// putRetried writes rec over revision rev, retrying while the store is
// away. A try that timed out during a leader election may still have
// landed, and its retry then meets its own write as a conflict: so a
// conflict after a failed try reads the record back, and finding exactly
// rec there counts as success.
func putRetried[T messages.TableRecord | messages.LoadRecord](ctx context.Context, c *Coordinator, what string, rec T, rev uint64,
	put func(context.Context, T, uint64) (uint64, error), get func(context.Context) (T, uint64, error),
) (uint64, error) {
	var out uint64
	failed := false
	err := c.retry(ctx, what, func() (err error) {
		out, err = put(ctx, rec, rev)
		if errors.Is(err, messages.ErrConflict) && failed {
			stored, storedRev, gerr := get(ctx)
			if gerr != nil {
				return gerr
			}
			if sameRecord(stored, rec) {
				out = storedRev
				return nil
			}
		}
		failed = failed || err != nil
		return err
	})
	return out, err
}

func sameRecord[T messages.TableRecord | messages.LoadRecord](a, b T) bool {
	ab, aerr := messages.Marshal(a)
	bb, berr := messages.Marshal(b)
	return aerr == nil && berr == nil && bytes.Equal(ab, bb)
}

// await follows the table's file records until every listed file is in a
// final state, and returns them. A table whose files stop moving for
// StallTimeout has its unfinished tasks published again.
func (c *Coordinator) await(ctx context.Context, load string, t Table, trec messages.TableRecord, log *slog.Logger) ([]messages.FileRecord, error) {
	files := map[string]messages.FileRecord{}
	terminal := 0
	done := errors.New("done")
	stalls := 0
	for {
		wctx, cancel := context.WithCancel(ctx)
		var timer *time.Timer
		timer = time.AfterFunc(c.cfg.StallTimeout, cancel)
		err := c.state.WatchFiles(wctx, load, t.Name, func(rec messages.FileRecord, current bool) error {
			if rec.Source.Key != "" {
				token := rec.Token()
				if old, ok := files[token]; ok && old.State.Terminal() {
					terminal--
				}
				files[token] = rec
				if rec.State.Terminal() {
					terminal++
				}
				timer.Reset(c.cfg.StallTimeout)
			}
			if want := max(trec.Records, trec.Files); terminal == want && len(files) == want {
				return done
			}
			return nil
		})
		timer.Stop()
		cancel()
		switch {
		case errors.Is(err, done):
			out := make([]messages.FileRecord, 0, len(files))
			for _, f := range files {
				out = append(out, f)
			}
			return out, nil
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil && !errors.Is(err, context.Canceled):
			// The watcher broke (NATS restarting, a leader change): follow
			// again from the current records.
			log.Warn("following file states; watching again", "err", err)
			files, terminal = map[string]messages.FileRecord{}, 0
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Second):
			}
			continue
		}
		// Stalled: nothing moved for StallTimeout.
		stalls++
		var tasks []messages.Task
		for _, f := range files {
			if f.State.Terminal() {
				continue
			}
			id := messages.DedupID(load, f.Source) + "-r" + strconv.Itoa(stalls)
			if f.Range != nil {
				id += "-" + strconv.Itoa(f.Range.Index)
			}
			tasks = append(tasks, messages.Task{ID: id, LoadID: load, Table: t.Name, Files: []messages.TaskFile{{Source: f.Source, Range: f.Range}}, Schema: trec.Schema})
		}
		if err := c.retry(ctx, "publishing unfinished tasks again", func() error { return c.publisher.Publish(ctx, tasks...) }); err != nil {
			return nil, err
		}
		n := len(tasks)
		log.Warn("table stalled; unfinished tasks published again", "unfinished", n, "stall", stalls)
		files, terminal = map[string]messages.FileRecord{}, 0
	}
}

// strandedFiles are the loaded files whose part does not hold exactly the
// files recorded in it. A batch's part holds the rows of every file in it,
// but its worker records the files one by one: a worker that dies between
// those writes leaves a part whose other files are loaded again elsewhere,
// and committing it would count their rows twice.
func strandedFiles(files []messages.FileRecord) []messages.FileRecord {
	members := map[string]int{}
	for _, f := range files {
		if f.State == messages.StateLoaded {
			members[f.Part]++
		}
	}
	var out []messages.FileRecord
	for _, f := range files {
		if f.State == messages.StateLoaded && members[f.Part] != max(f.PartFiles, 1) {
			out = append(out, f)
		}
	}
	return out
}

// reload sets stranded files back to listed and publishes a task for each,
// so each loads into a part of its own.
func (c *Coordinator) reload(ctx context.Context, load, table string, schema []byte, stranded []messages.FileRecord, round int, log *slog.Logger) error {
	var tasks []messages.Task
	for _, f := range stranded {
		token := f.Token()
		var rev uint64
		err := c.retry(ctx, "reloading "+f.Source.String(), func() error {
			rec, r, err := c.state.File(ctx, load, table, token)
			if err != nil || rec.State != messages.StateLoaded || rec.Part != f.Part {
				return err // moved on since: nothing to undo
			}
			rec.State, rec.Part, rec.PartFiles, rec.Rows, rec.Bytes = messages.StateListed, "", 0, 0, 0
			rec.Error = "loading again: its part " + f.Part + " also holds a file recorded in another part"
			rec.Updated = time.Now().UTC()
			rev, err = c.state.PutFile(ctx, rec, r)
			return err
		})
		if errors.Is(err, messages.ErrConflict) {
			continue
		}
		if err != nil {
			return err
		}
		if rev == 0 {
			continue
		}
		id := messages.DedupID(load, f.Source) + "-p" + strconv.Itoa(round)
		tasks = append(tasks, messages.Task{ID: id, LoadID: load, Table: table, Files: []messages.TaskFile{{Source: f.Source, Revision: rev}}, Schema: schema})
	}
	if len(tasks) == 0 {
		return nil
	}
	log.Warn("files of incomplete batch parts loaded again", "files", len(tasks))
	return c.retry(ctx, "publishing reloads", func() error { return c.publisher.Publish(ctx, tasks...) })
}

// failedSplits are the split files, all of whose ranges are final, with a
// range that failed: each is returned as its first range's record. A range
// fails when its rows cannot stand alone (a CSV quoted field holding a
// newline across a split point ends the range before inside the quotes), and
// a bad row's error should name its line in the file, not in the range: so
// the file is loaded again whole, and fails only if it fails whole.
func failedSplits(files []messages.FileRecord) []messages.FileRecord {
	type split struct {
		first  messages.FileRecord
		failed bool
	}
	splits := map[string]*split{}
	for _, f := range files {
		if f.Range == nil || f.Range.Count < 2 {
			continue
		}
		token := f.Source.Token()
		sp := splits[token]
		if sp == nil {
			sp = &split{}
			splits[token] = sp
		}
		if f.Range.Index == 0 {
			sp.first = f
		}
		if f.State == messages.StateFailed {
			sp.failed = true
		}
	}
	var out []messages.FileRecord
	for _, sp := range splits {
		first := sp.first
		if sp.failed && first.Range != nil && (first.Range.Start != 0 || first.Range.End != first.Source.Size) {
			out = append(out, first)
		}
	}
	return out
}

// unsplit widens each file's first range to the whole file, marks its other
// ranges merged, and publishes the first range's task again.
func (c *Coordinator) unsplit(ctx context.Context, load, table string, schema []byte, firsts []messages.FileRecord, round int, log *slog.Logger) error {
	var tasks []messages.Task
	for _, first := range firsts {
		for i := 1; i < first.Range.Count; i++ {
			r := *first.Range
			r.Index = i
			if err := c.retry(ctx, "merging "+first.Source.String(), func() error {
				rec, rev, err := c.state.File(ctx, load, table, messages.RecordToken(first.Source, &r))
				if err != nil {
					return err
				}
				rec.State, rec.Part, rec.PartFiles, rec.Rows, rec.Bytes = messages.StateMerged, "", 0, 0, 0
				rec.Error, rec.Updated = "", time.Now().UTC()
				_, err = c.state.PutFile(ctx, rec, rev)
				return err
			}); err != nil {
				return err
			}
		}
		var rev uint64
		whole := messages.Range{Index: 0, Count: first.Range.Count, Start: 0, End: first.Source.Size}
		if err := c.retry(ctx, "unsplitting "+first.Source.String(), func() error {
			rec, r, err := c.state.File(ctx, load, table, first.Token())
			if err != nil {
				return err
			}
			rec.Range, rec.State, rec.Attempts = &whole, messages.StateListed, 0
			rec.Part, rec.PartFiles, rec.Rows, rec.Bytes = "", 0, 0, 0
			rec.Error, rec.Updated = "", time.Now().UTC()
			rev, err = c.state.PutFile(ctx, rec, r)
			return err
		}); err != nil {
			return err
		}
		id := messages.DedupID(load, first.Source) + "-whole" + strconv.Itoa(round)
		tasks = append(tasks, messages.Task{ID: id, LoadID: load, Table: table, Files: []messages.TaskFile{{Source: first.Source, Range: &whole, Revision: rev}}, Schema: schema})
	}
	if len(tasks) == 0 {
		return nil
	}
	log.Warn("split files with a failed range loaded again whole", "files", len(tasks))
	return c.retry(ctx, "publishing unsplit files", func() error { return c.publisher.Publish(ctx, tasks...) })
}

// unreadableError: no file of the table could be read to infer its schema.
// The table ends uncommitted; the load goes on.
type unreadableError struct{ err error }

func (e *unreadableError) Error() string { return e.err.Error() }
func (e *unreadableError) Unwrap() error { return e.err }
