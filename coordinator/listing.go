package coordinator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/s3load/s3load/messages"
)

// listing counts what a listing recorded.
type listing struct {
	files, records, skipped int
	// kept counts files a resumed load keeps from its earlier run, and
	// published the tasks it publishes again.
	kept, published int
	// reused counts files whose rows a new load keeps from the table's
	// committed load; rewrites, those of them to be copied from parts it
	// rewrites.
	reused, rewrites int
	// keptParts are the committed parts whose files' rows the load keeps
	// as they are (reused whole, or masked).
	keptParts map[string]bool
}

func relKey(prefix, key string) string { return strings.TrimPrefix(key, prefix) }

// listAndPublish records and publishes every file of the table, page by
// page, so publishing starts with the first page; each page's records and
// tasks go out pipelined, one round trip per page. Re-running it after a
// crash is safe: existing records are kept, finished files are not published
// again, and unfinished ones are deduplicated by the queue. Files reuse may
// keep are held until the listing ends (see reusePlan).
//
// listed, if not nil, is the pre-flight's listing of the table, taken
// instead of listing the store again: the load records exactly the files
// the pre-flight probed, and a million keys are parsed once, not twice.
func (c *Coordinator) listAndPublish(ctx context.Context, load string, t Table, schema []byte, rejected map[string]string, listed [][]messages.Source, reuse *reusePlan, log *slog.Logger) (listing, error) {
	var n listing
	var mu sync.Mutex
	// Pages are recorded and published pipelined, pagesInFlight at once:
	// while the server stores one page's records, the next page is encoded
	// and sent (and the store's next page fetched and parsed). Each page
	// still records its files before publishing their tasks.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(pagesInFlight)
	carry := &batcher{size: c.cfg.BatchFiles}
	handle := func(page []messages.Source) {
		g.Go(func() error {
			recs, files, skipped := c.pageRecords(gctx, load, t, schema, page, rejected, reuse)
			if err := c.recordAndPublish(gctx, load, t.Name, recs, carry); err != nil {
				return err
			}
			mu.Lock()
			n.files, n.records, n.skipped = n.files+files, n.records+len(recs), n.skipped+skipped
			mu.Unlock()
			return nil
		})
	}
	var err error
	if listed != nil {
		for i, page := range listed {
			if gctx.Err() != nil {
				break
			}
			handle(page)
			listed[i] = nil // the page's task owns it now; the listing lets it go
		}
	} else {
		// A listing the store keeps refusing (throttling past the client's
		// own retries) resumes after the last page handed on, not from the
		// start.
		after := ""
		err = c.retry(ctx, "listing "+t.Prefix, func() error {
			return c.Lister.List(gctx, c.cfg.Bucket, t.Prefix, after, func(page []messages.Source) error {
				if err := gctx.Err(); err != nil {
					return final{err} // a page failed: its error is g.Wait's
				}
				handle(page)
				after = page[len(page)-1].Key
				return nil
			})
		})
	}
	if werr := g.Wait(); werr != nil {
		return n, fmt.Errorf("recording and publishing: %w", werr)
	}
	if err != nil {
		return n, fmt.Errorf("listing and publishing: %w", err)
	}
	if err := c.publish(ctx, load, t.Name, carry.rest(), false, nil); err != nil {
		return n, fmt.Errorf("publishing: %w", err)
	}
	recs, reused, copied := c.reuseRecords(ctx, load, t, schema, reuse, log)
	rest, err := c.recordKept(ctx, recs, log)
	if err != nil {
		return n, fmt.Errorf("recording reused files: %w", err)
	}
	if err := c.recordAndPublish(ctx, load, t.Name, rest, nil); err != nil {
		return n, fmt.Errorf("recording reused files: %w", err)
	}
	n.records, n.reused, n.rewrites = n.records+len(recs), reused, copied
	for _, rec := range recs {
		if rec.State == messages.StateLoaded {
			if n.keptParts == nil {
				n.keptParts = map[string]bool{}
			}
			n.keptParts[rec.Part] = true
		}
	}
	return n, nil
}

// batcher gathers a listing's small files into batches across its pages:
// a page's last few small files (or the few a repeated load lists anew on
// each page) wait for the next page's instead of making a task, and a
// part, of their own. Their records are written; a load stopped before
// the rest is published publishes them when it resumes, as any file
// recorded and not loaded.
type batcher struct {
	size  int
	mu    sync.Mutex
	small []messages.TaskFile
}

// take adds files to the batch being gathered and returns the batches it
// filled.
func (b *batcher) take(files []messages.TaskFile) [][]messages.TaskFile {
	b.mu.Lock()
	defer b.mu.Unlock()
	var full [][]messages.TaskFile
	for _, f := range files {
		b.small = append(b.small, f)
		if len(b.small) == b.size {
			full = append(full, b.small)
			b.small = nil
		}
	}
	return full
}

// rest returns the last batch, not full.
func (b *batcher) rest() []messages.TaskFile {
	b.mu.Lock()
	defer b.mu.Unlock()
	rest := b.small
	b.small = nil
	return rest
}

// pagesInFlight bounds the pages being recorded and published at once. Two
// keep both the client and the server busy; more would only queue
// publishes behind the client's limit of unacknowledged ones.
const pagesInFlight = 2

// pageRecords makes the records of the eligible files of one page: one per
// file, or one per range of a file to split; a file the pre-flight
// rejected is recorded failed, with its reason, and never published.
func (c *Coordinator) pageRecords(ctx context.Context, load string, t Table, schema []byte, page []messages.Source, rejected map[string]string, reuse *reusePlan) (recs []messages.FileRecord, files, skipped int) {
	now := time.Now().UTC()
	// One record per file but for split ones: sized once, not grown.
	recs = make([]messages.FileRecord, 0, len(page))
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
		// Identity hashes the key: pay it only when the pre-flight
		// rejected something.
		if len(rejected) > 0 {
			if why, ok := rejected[src.Identity()]; ok {
				recs = append(recs, messages.FileRecord{LoadID: load, Table: t.Name, Source: src, State: messages.StateFailed, Error: why, Updated: now})
				continue
			}
		}
		if reuse.hold(src) {
			continue
		}
		recs = c.appendRecords(ctx, recs, load, t.Name, schema, src, now)
	}
	return recs, files, skipped
}

// newRecords are the listed records of one file: one, or one per range.
func (c *Coordinator) newRecords(ctx context.Context, load, table string, schema []byte, src messages.Source, now time.Time) []messages.FileRecord {
	return c.appendRecords(ctx, nil, load, table, schema, src, now)
}

// appendRecords appends the listed records of one file to recs: one, or
// one per range. Appending, not returning a slice per file, spares a
// million small allocations on a million files.
func (c *Coordinator) appendRecords(ctx context.Context, recs []messages.FileRecord, load, table string, schema []byte, src messages.Source, now time.Time) []messages.FileRecord {
	rec := messages.FileRecord{LoadID: load, Table: table, Source: src, State: messages.StateListed, Updated: now}
	rs := c.ranges(ctx, table, schema, src)
	if rs == nil {
		return append(recs, rec)
	}
	for _, r := range rs {
		rec.Range = r
		recs = append(recs, rec)
	}
	return recs
}

// tailPieces is how many pieces the last range of a file split three ways
// or more is cut into. Workers take a file's ranges in order, so with
// equal ranges a file whose range count is not a multiple of the workers
// ended with one worker loading a whole range alone (a 2 GB file on two
// workers: the ninth of 9 ranges, 0.8 of 5.2 s); on pieces a quarter that
// size the workers finish within a piece of each other.
const tailPieces = 4

// ranges splits a big file into ranges of about SplitBytes, the last of
// them cut in tailPieces, or returns nil to load it whole.
func (c *Coordinator) ranges(ctx context.Context, table string, schema []byte, src messages.Source) []*messages.Range {
	if c.cfg.SplitBytes <= 0 || src.Size <= c.cfg.SplitBytes || c.cfg.Splittable == nil || !c.cfg.Splittable(ctx, table, schema, src) {
		return nil
	}
	n := (src.Size + c.cfg.SplitBytes - 1) / c.cfg.SplitBytes
	bounds := make([]int64, 0, n+tailPieces)
	for i := range n {
		bounds = append(bounds, src.Size*i/n)
	}
	// With two ranges there is no tail: two workers load them side by side.
	if n >= 3 {
		last := bounds[n-1]
		pieces := min(tailPieces, src.Size-last)
		for j := int64(1); j < pieces; j++ {
			bounds = append(bounds, last+(src.Size-last)*j/pieces)
		}
	}
	bounds = append(bounds, src.Size)
	out := make([]*messages.Range, len(bounds)-1)
	for i := range out {
		out[i] = &messages.Range{Index: i, Count: len(out), Start: bounds[i], End: bounds[i+1]}
	}
	return out
}

// recordAndPublish creates the records of one page of files, then publishes
// a task for each file that is not finished: a record is always written
// before its task, so a worker never meets a task without a record. A
// record's From goes with its task; carry, if not nil, gathers small files
// across pages (see batcher).
func (c *Coordinator) recordAndPublish(ctx context.Context, load, table string, recs []messages.FileRecord, carry *batcher) error {
	if len(recs) == 0 {
		return nil
	}
	var revs []uint64
	if err := c.retry(ctx, "recording a page of files", func() (err error) {
		revs, err = c.State.CreateFiles(ctx, recs)
		return err
	}); err != nil {
		return err
	}
	files := make([]messages.TaskFile, 0, len(recs))
	// Files whose ranges an earlier run of this load recorded in another
	// layout (a coordinator of another version, stopped mid-page): their
	// recorded ranges stand, and the ones this run added past them are
	// merged, since the earlier ranges hold their bytes.
	var laidOut map[string]int // file token: the range count recorded earlier
	for i, rec := range recs {
		if rec.State.Terminal() {
			continue // rejected by the pre-flight
		}
		src, rev := rec.Source, revs[i]
		if n, ok := laidOut[src.Token()]; ok && rev != 0 && rec.Range != nil && rec.Range.Index >= n {
			rec.State, rec.Updated = messages.StateMerged, time.Now().UTC()
			if _, err := c.putFile(ctx, rec, rev); err != nil {
				return err
			}
			continue
		}
		if rev == 0 { // recorded by an earlier run of this load
			var existing messages.FileRecord
			if err := c.retry(ctx, "reading "+src.String(), func() (err error) {
				existing, rev, err = c.State.File(ctx, load, table, rec.Token())
				return err
			}); err != nil && !errors.Is(err, messages.ErrNotFound) {
				return err
			}
			if existing.Range != nil && rec.Range != nil && existing.Range.Count != rec.Range.Count {
				if laidOut == nil {
					laidOut = map[string]int{}
				}
				laidOut[src.Token()] = existing.Range.Count
			}
			if existing.State.Terminal() {
				continue
			}
			if existing.Source.Key != "" {
				// Listed again with a new ETag means the object changed
				// mid-load: keep the first listing; the pinned read reports it.
				src, rec.Range = existing.Source, existing.Range
			}
		}
		files = append(files, messages.TaskFile{Source: src, Range: rec.Range, Revision: rev, From: rec.From})
	}
	return c.publish(ctx, load, table, files, false, carry)
}

// publish makes and publishes the tasks of files: small files share tasks,
// up to BatchFiles each; larger files get one each; files whose rows are
// copied from a committed part share one task per part, as they shared the
// part. A reissued task (a file published again) gets a fresh ID, since
// the queue may still remember the first one, and says a part may already
// hold its rows. Small files given carry wait there for a full batch.
func (c *Coordinator) publish(ctx context.Context, load, table string, files []messages.TaskFile, reissued bool, carry *batcher) error {
	if len(files) == 0 {
		return nil
	}
	nonce := ""
	if reissued {
		var b [4]byte
		_, _ = rand.Read(b[:])
		nonce = "-" + hex.EncodeToString(b[:])
	}
	var tasks []messages.Task
	task := func(fs []messages.TaskFile) messages.Task {
		return messages.Task{ID: messages.TaskID(load, table, fs) + nonce, LoadID: load, Table: table, Files: fs, Reissued: reissued}
	}
	var small []messages.TaskFile
	byPart := map[string][]messages.TaskFile{}
	var parts []string
	for _, f := range files {
		if f.From != "" {
			if byPart[f.From] == nil {
				parts = append(parts, f.From)
			}
			byPart[f.From] = append(byPart[f.From], f)
			continue
		}
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
	if carry != nil {
		for _, batch := range carry.take(small) {
			tasks = append(tasks, task(batch))
		}
	} else if len(small) > 0 {
		tasks = append(tasks, task(small))
	}
	for _, part := range parts {
		tasks = append(tasks, task(byPart[part]))
	}
	// Publish in slices so one call's pipelined acks stay bounded.
	const slice = 1000
	for len(tasks) > 0 {
		n := min(slice, len(tasks))
		if err := c.retry(ctx, "publishing tasks of "+table, func() error { return c.Queue.Publish(ctx, tasks[:n]...) }); err != nil {
			return err
		}
		tasks = tasks[n:]
	}
	return nil
}

// sync lists the table again and brings its records in line with the
// listing: a record is created and published for every file without one,
// and a new version of an object replaces its old records. With
// retryFailed (a load finished later), files that failed or changed are
// tried again, records of objects no longer listed are removed, and what
// loaded is kept. Without it (repairing records lost from the store), only
// missing records are restored. Unfinished files are left to await's
// checks either way.
func (c *Coordinator) sync(ctx context.Context, load string, t Table, schema []byte, retryFailed bool) (listing, error) {
	var n listing
	var existing []messages.FileRecord
	if err := c.retry(ctx, "reading the files of "+t.Name, func() (err error) {
		existing, err = c.State.Files(ctx, load, t.Name)
		return err
	}); err != nil {
		return n, err
	}
	byKey := map[string][]messages.FileRecord{}
	for _, r := range existing {
		byKey[r.Source.Token()] = append(byKey[r.Source.Token()], r)
	}
	seen := map[string]bool{}
	var creates, resets, stale []messages.FileRecord
	var again []messages.TaskFile
	now := time.Now().UTC()
	err := c.retry(ctx, "listing "+t.Prefix, func() error {
		n, seen, creates, resets, stale, again = listing{}, map[string]bool{}, nil, nil, nil, nil
		return c.Lister.List(ctx, c.cfg.Bucket, t.Prefix, "", func(page []messages.Source) error {
			for _, src := range page {
				if c.cfg.SkipReason(src.Key, src.Size) != "" {
					n.skipped++
					continue
				}
				if t.Match != nil && !t.Match(relKey(t.Prefix, src.Key)) {
					continue
				}
				n.files++
				seen[src.Token()] = true
				old := byKey[src.Token()]
				if len(old) == 0 || old[0].Source.Identity() != src.Identity() {
					stale = append(stale, old...)
					before := len(creates)
					creates = c.appendRecords(ctx, creates, load, t.Name, schema, src, now)
					n.records += len(creates) - before
					continue
				}
				n.records += len(old)
				kept := true
				for _, rec := range old {
					switch {
					case rec.State == messages.StateLoaded || rec.State == messages.StateMerged:
					case rec.State.Terminal() && !retryFailed:
					case !rec.State.Terminal():
						// In work, or its task in the queue: leave it be. If its
						// task was lost, await's checks publish it again, and
						// never while a live worker holds it.
						kept = false
					default:
						kept = false
						resets = append(resets, rec)
					}
				}
				if kept && retryFailed {
					n.kept++
				}
			}
			return nil
		})
	})
	if err != nil {
		return n, fmt.Errorf("listing %s again: %w", t.Prefix, err)
	}
	if retryFailed {
		for token, recs := range byKey {
			if !seen[token] {
				stale = append(stale, recs...) // the object is gone: so is its file
			}
		}
	}
	if err := c.unkeep(ctx, load, t.Name, stale); err != nil {
		return n, err
	}
	for _, rec := range stale {
		if err := c.retry(ctx, "removing the record of "+rec.Source.String(), func() error {
			return c.State.DeleteFile(ctx, load, t.Name, rec.Token())
		}); err != nil {
			return n, err
		}
	}
	for _, rec := range resets {
		rev, err := c.resetFile(ctx, rec, "")
		if err != nil {
			return n, err
		}
		if rev != 0 {
			again = append(again, messages.TaskFile{Source: rec.Source, Range: rec.Range, Revision: rev, From: rec.From})
		}
	}
	if len(creates) > 0 {
		var revs []uint64
		if err := c.retry(ctx, "recording files of "+t.Name, func() (err error) {
			revs, err = c.State.CreateFiles(ctx, creates)
			return err
		}); err != nil {
			return n, err
		}
		for i, rec := range creates {
			again = append(again, messages.TaskFile{Source: rec.Source, Range: rec.Range, Revision: revs[i]})
		}
	}
	n.published = len(again)
	return n, c.publish(ctx, load, t.Name, again, true, nil)
}

// resetFile sets a file's record back to listed, for another try from
// scratch, and returns its new revision (0 if the record is gone). why, if
// given, stays in the record's error until the file loads.
func (c *Coordinator) resetFile(ctx context.Context, f messages.FileRecord, why string) (uint64, error) {
	var rev uint64
	err := c.retry(ctx, "resetting "+f.Source.String(), func() error {
		rec, r, err := c.State.File(ctx, f.LoadID, f.Table, f.Token())
		if errors.Is(err, messages.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		rec.State, rec.Part, rec.PartFiles, rec.Rows, rec.Bytes = messages.StateListed, "", 0, 0, 0
		rec.Attempts, rec.Worker, rec.Error, rec.FailingSince, rec.Updated = 0, "", why, time.Time{}, time.Now().UTC()
		rev, err = c.State.PutFile(ctx, rec, r)
		return err
	})
	return rev, err
}

// rejectedFiles maps the identity of each file the pre-flight rejected to
// its reason.
func rejectedFiles(pf *messages.Preflight) map[string]string {
	if pf == nil || len(pf.Rejected) == 0 {
		return nil
	}
	m := make(map[string]string, len(pf.Rejected))
	for _, f := range pf.Rejected {
		m[f.Source.Identity()] = f.Error
	}
	return m
}
