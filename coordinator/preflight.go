package coordinator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/s3load/s3load/messages"
)

// maxStoredRejects and maxStoredRejectBytes bound the rejected files a
// table record carries from the pre-flight to the listing, well within the
// state store's payload limit. Past them the rest are simply published:
// the load fails them the same way, later.
const (
	maxStoredRejects     = 1000
	maxStoredRejectBytes = 256 << 10
)

// logRejects bounds the rejected files logged one by one; the report and
// the records name every one.
const logRejects = 20

// localProbes bounds the files the coordinator probes at once itself.
const localProbes = 8

// probed is one file's pre-flight finding.
type probed struct {
	// src points into the pre-flight's listing: a copy would be a
	// million Sources more at the pre-flight's memory peak.
	src    *messages.Source
	kind   messages.ProbeKind
	schema []byte
	err    string
	done   bool
}

// preflight lists the table, reads the schema of every file (on the
// workers, as probe tasks, when there are many), and merges them into the
// table's schema under its policy. Files that cannot be read, or do not
// fit the merged schema, are rejected: they fail before loading, each with
// its reason. When no file gives a schema, every file is accounted for in
// failures and the error says why. Files known (unchanged since the
// table's committed load) are not read: they count in the merge with the
// schema that load decided.
func (c *Coordinator) preflight(ctx context.Context, load string, t Table, log *slog.Logger, known *knownFiles) (schema []byte, pf *messages.Preflight, failures []messages.ManifestFailure, err error) {
	schema, pf, failures, _, err = c.preflightListed(ctx, load, t, log, known, nil)
	return schema, pf, failures, err
}

// preflightListed is preflight that also returns the pages of its
// listing (never nil on success), for the table's listing to record and
// publish without listing a million keys a second time. With ahead, the
// pages are that listing's; otherwise the table is listed now, cut where
// the known files say. The workers start on the files listed first while
// the rest are listed (see earlyProbes).
func (c *Coordinator) preflightListed(ctx context.Context, load string, t Table, log *slog.Logger, known *knownFiles, ahead *liveListing) (schema []byte, pf *messages.Preflight, failures []messages.ManifestFailure, pages [][]messages.Source, err error) {
	listing := ahead
	if listing == nil {
		splits := known.splits()
		listing = c.startListing(ctx, t, func(context.Context) []string { return splits })
		defer listing.stop()
	}
	tasks := &probeTasks{c: c, load: load, t: t}
	early := earlyProbes{tasks: tasks, known: known}
	pages = [][]messages.Source{}
	for {
		page, ok, err := listing.next(ctx)
		if err != nil {
			return nil, nil, nil, nil, fmt.Errorf("listing for the pre-flight: %w", err)
		}
		if !ok {
			break
		}
		pages = append(pages, page)
		if err := early.add(ctx, pages); err != nil {
			return nil, nil, nil, nil, err
		}
	}
	ranges, took := listing.stats()
	log.Debug("listed", "pages", len(pages), "ranges", ranges, "took", took, "ahead", ahead != nil,
		"probe_tasks", tasks.published)
	eligible := 0
	for _, page := range pages {
		for _, src := range page {
			if c.eligible(t, src) {
				eligible++
			}
		}
	}
	// Pointers into the pages, in a slice sized once after the listing: a
	// copy of a million Sources, grown while listing, was 100 MB more at
	// the pre-flight's memory peak.
	files := make([]*messages.Source, 0, eligible)
	for _, page := range pages {
		for i := range page {
			if c.eligible(t, page[i]) {
				files = append(files, &page[i])
			}
		}
	}
	schema, pf, failures, err = c.probeFiles(ctx, tasks, files, log, known)
	return schema, pf, failures, pages, err
}

// earlyProbes publishes a table's probe tasks while its listing runs: once
// more files need probing than ProbeLocalMax (so the pre-flight spreads
// them over the workers), each task of ProbeTaskFiles files is published
// as soon as the listing has reached its last file. They are the tasks
// probeOnWorkers would publish after the listing, the same files under the
// same IDs, only sooner.
type earlyProbes struct {
	tasks *probeTasks
	known *knownFiles
	// seen counts the files to probe until there are more than
	// ProbeLocalMax; from then on, pending holds those not yet in a task,
	// in listing order. Before, nothing is held: a table the coordinator
	// probes itself keeps no second list of its files.
	seen    int
	pending []*messages.Source
}

// add takes the listing's next page, the last of pages (all so far).
func (e *earlyProbes) add(ctx context.Context, pages [][]messages.Source) error {
	c := e.tasks.c
	last := pages[len(pages)-1]
	from := len(pages) - 1
	if e.seen <= c.cfg.ProbeLocalMax {
		for i := range last {
			if e.toProbe(last[i]) {
				e.seen++
			}
		}
		if e.seen <= c.cfg.ProbeLocalMax {
			return nil
		}
		from = 0 // every file so far
	}
	for _, page := range pages[from:] {
		for i := range page {
			if e.toProbe(page[i]) {
				e.pending = append(e.pending, &page[i])
			}
		}
	}
	full := len(e.pending) / c.cfg.ProbeTaskFiles * c.cfg.ProbeTaskFiles
	if full == 0 {
		return nil
	}
	if err := e.tasks.publish(ctx, e.pending[:full]); err != nil {
		return err
	}
	e.pending = slices.Delete(e.pending, 0, full)
	return nil
}

// toProbe says whether the pre-flight reads src's schema.
func (e *earlyProbes) toProbe(src messages.Source) bool {
	return e.tasks.c.eligible(e.tasks.t, src) && !e.known.has(src)
}

// probeTasks are a table's probe tasks of one pre-flight, numbered in the
// order published: task i holds the files to probe from i*ProbeTaskFiles.
type probeTasks struct {
	c    *Coordinator
	load string
	t    Table
	// round tells the tasks of a second reading of every file (see
	// probeFiles) from the first's, which the queue would take for
	// duplicates.
	round     string
	published int
}

// publish publishes files, the next of the files to probe, as tasks of
// ProbeTaskFiles files (the last may hold fewer).
func (p *probeTasks) publish(ctx context.Context, files []*messages.Source) error {
	if len(files) == 0 {
		return nil
	}
	var tasks []messages.Task
	for start := 0; start < len(files); start += p.c.cfg.ProbeTaskFiles {
		end := min(start+p.c.cfg.ProbeTaskFiles, len(files))
		task := messages.Task{ID: fmt.Sprintf("probe-%s-%s-%s%06d", p.load, p.t.Name, p.round, p.published+len(tasks)),
			LoadID: p.load, Table: p.t.Name, Probe: true}
		for _, src := range files[start:end] {
			task.Files = append(task.Files, messages.TaskFile{Source: *src})
		}
		tasks = append(tasks, task)
	}
	if err := p.c.retry(ctx, "publishing probe tasks", func() error { return p.c.Queue.Publish(ctx, tasks...) }); err != nil {
		return fmt.Errorf("publishing probe tasks: %w", err)
	}
	p.published += len(tasks)
	return nil
}

// errRangeListed stops the listing of a range at its end.
var errRangeListed = errors.New("range listed")

// listRangesTo lists the table's keys. With splits, the ranges they cut
// (keys up to and including the first split, then after it up to the
// next, ...) are listed at once: each range's pages go to add, in key
// order, as they come (from one goroutine per range), and end is called
// once the range is all listed. A listing the store keeps refusing resumes
// after the last page handled, not from the start.
func (c *Coordinator) listRangesTo(ctx context.Context, t Table, splits []string, add func(r int, page []messages.Source), end func(r int)) error {
	g, gctx := errgroup.WithContext(ctx)
	for i := range len(splits) + 1 {
		after, last := "", ""
		if i > 0 {
			after = splits[i-1]
		}
		if i < len(splits) {
			last = splits[i]
		}
		g.Go(func() error {
			err := c.retry(gctx, "listing "+t.Prefix, func() error {
				err := c.Lister.List(gctx, c.cfg.Bucket, t.Prefix, after, func(page []messages.Source) error {
					done := false
					if last != "" {
						n, _ := slices.BinarySearchFunc(page, last, func(s messages.Source, k string) int { return strings.Compare(s.Key, k) })
						if n < len(page) && page[n].Key == last {
							n++
						}
						// Past the end, or on it: a page that ends on the
						// range's last key needs no page after it.
						done, page = n < len(page) || (n > 0 && page[n-1].Key == last), page[:n]
					}
					if len(page) > 0 {
						after = page[len(page)-1].Key
						add(i, page)
					}
					if done {
						return errRangeListed
					}
					return nil
				})
				if errors.Is(err, errRangeListed) {
					return nil
				}
				return err
			})
			if err == nil {
				end(i)
			}
			return err
		})
	}
	return g.Wait()
}

// listRequests is how many requests listRangesTo makes for keys (in key
// order, as listed) cut at splits, pageKeys to a page: each range's pages,
// where a range with keys after it stops at the first page that shows one
// or ends on the range's last key (one more request when its keys fill
// their last page but the split itself is not listed).
func listRequests(keys, splits []string, pageKeys int) int {
	n, start := 0, 0
	for i := 0; i <= len(splits); i++ {
		end, found := len(keys), false
		if i < len(splits) {
			if end, found = slices.BinarySearch(keys, splits[i]); found {
				end++
			}
		}
		if k := end - start; end < len(keys) {
			n += k / pageKeys
			if !found || k%pageKeys != 0 {
				n++
			}
		} else {
			n += max(1, (k+pageKeys-1)/pageKeys)
		}
		start = end
	}
	return n
}

// probeFiles reads the schema of every eligible file and merges them, as
// preflight says; files known from the committed load are not read. Of
// the files to probe, those in tasks already published are left to them.
func (c *Coordinator) probeFiles(ctx context.Context, tasks *probeTasks, files []*messages.Source, log *slog.Logger, known *knownFiles) (schema []byte, pf *messages.Preflight, failures []messages.ManifestFailure, err error) {
	t := tasks.t
	if len(files) == 0 {
		return t.Schema, nil, nil, nil
	}
	started := time.Now()
	found := make([]probed, 0, len(files))
	knownFiles := 0
	for _, src := range files {
		if known.has(*src) {
			knownFiles++
			continue
		}
		found = append(found, probed{src: src})
	}
	distributed := len(found) > c.cfg.ProbeLocalMax
	if distributed {
		if err := c.probeOnWorkers(ctx, tasks, found, log); err != nil {
			return nil, nil, nil, err
		}
	}
	if err := c.probeHere(ctx, t, found); err != nil {
		return nil, nil, nil, err
	}
	pf = &messages.Preflight{Files: len(files), Distributed: distributed}
	for _, src := range files {
		pf.Bytes += src.Size
	}
	groups, members := groupSchemas(found)
	if knownFiles > 0 {
		groups = append(groups, SchemaGroup{Schema: known.schema, Files: knownFiles})
		members = append(members, nil)
	}
	pf.Schemas = len(groups)
	rejected := func(p probed, why string) messages.ManifestFailure {
		return messages.ManifestFailure{Source: *p.src, State: messages.StateFailed, Error: why}
	}
	var bad, empty []messages.ManifestFailure
	for _, p := range found {
		switch p.kind {
		case messages.ProbeBad:
			bad = append(bad, rejected(p, p.err))
		case messages.ProbeEmpty:
			empty = append(empty, rejected(p, p.err))
		}
	}
	pf.Empty = len(empty)
	if len(groups) == 0 && len(t.Schema) == 0 {
		return nil, nil, append(bad, empty...), noSchema(t, len(bad), len(empty), found)
	}
	// Merging reads nothing: its error is the config's or the files', and
	// trying again cannot help.
	merged, err := c.Merger.MergeSchemas(ctx, t.Name, t.Schema, groups)
	if err != nil {
		return nil, nil, append(bad, empty...), Permanent(fmt.Errorf("deciding the table's schema: %w", err))
	}
	if len(merged.Misfits) != len(groups) {
		return nil, nil, nil, fmt.Errorf("deciding the table's schema: %d verdicts for %d schemas", len(merged.Misfits), len(groups))
	}
	if knownFiles > 0 && merged.Misfits[len(groups)-1] != "" {
		// The known files do not fit the schema the others give: read them
		// all, as a load without a committed one would, to say which.
		log.Info("the table's files no longer fit the schema of its committed load; reading every file's schema")
		return c.probeFiles(ctx, &probeTasks{c: c, load: tasks.load, t: t, round: "all-"}, files, log, nil)
	}
	pf.Widened, pf.Dialect = merged.Widened, merged.Dialect
	var misfits []messages.ManifestFailure
	for g, why := range merged.Misfits {
		if why == "" {
			continue
		}
		for _, i := range members[g] {
			misfits = append(misfits, rejected(found[i], fmt.Sprintf("%s: %s", *found[i].src, why)))
		}
	}
	all := append(bad, misfits...)
	if len(all)+len(empty) == len(files) && len(misfits)+len(bad) > 0 {
		// Nothing would load: say so now, naming every file.
		return nil, nil, append(all, empty...), fmt.Errorf("no file fits: %d could not be read and %d do not fit the schema the files give", len(bad), len(misfits))
	}
	for i, f := range all {
		if i == logRejects {
			log.Warn("and more files fail before loading", "more", len(all)-logRejects)
			break
		}
		log.Warn("file fails before loading", "file", f.Source.String(), "err", f.Error)
	}
	size := 0
	for _, f := range all {
		if size += len(f.Error) + len(f.Source.Key) + 100; len(pf.Rejected) == maxStoredRejects || size > maxStoredRejectBytes {
			break
		}
		pf.Rejected = append(pf.Rejected, f)
	}
	log.Info("pre-flight done", "files", len(files), "schemas", len(groups), "rejected", len(all), "empty", len(empty),
		"on_workers", distributed, "took", time.Since(started).Round(time.Millisecond))
	return merged.Schema, pf, nil, nil
}

// noSchema says why no file gave a schema.
func noSchema(t Table, bad, empty int, found []probed) error {
	switch {
	case bad > 0 && empty > 0:
		return fmt.Errorf("no schema: %d of the files could not be read and %d are empty", bad, empty)
	case bad > 0:
		return fmt.Errorf("no schema: none of the %d files could be read", bad)
	case empty > 0 && t.AllowEmpty:
		return fmt.Errorf("no schema: all %d files are empty (allow_empty commits an empty table only when no file is listed, or with a declared schema)", empty)
	case empty > 0:
		return fmt.Errorf("no schema: all %d files are empty (no rows to infer a schema from); table not committed, its previous commit stays", empty)
	}
	return fmt.Errorf("no schema: none of the %d files could be probed (the store kept failing; the load tries again later)", len(found))
}

// groupSchemas gathers the files by schema, in the order each schema was
// first found: the merge weighs each by its files, never reading a
// schema twice.
func groupSchemas(found []probed) ([]SchemaGroup, [][]int) {
	at := map[string]int{}
	var groups []SchemaGroup
	var members [][]int
	for i, p := range found {
		if p.kind != messages.ProbeOK {
			continue
		}
		g, ok := at[string(p.schema)]
		if !ok {
			g = len(groups)
			at[string(p.schema)] = g
			groups = append(groups, SchemaGroup{Schema: p.schema})
			members = append(members, nil)
		}
		groups[g].Files++
		members[g] = append(members[g], i)
	}
	return groups, members
}

// probeHere probes, in this process, every file the workers did not: all
// of them for a small table, and those the workers could not reach.
func (c *Coordinator) probeHere(ctx context.Context, t Table, found []probed) error {
	g, gctx := errgroup.WithContext(ctx)
	// localProbes goroutines take the files in turn: one goroutine per file
	// would start a million for a table of a million files.
	var next atomic.Int64
	for range min(localProbes, len(found)) {
		g.Go(func() error {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(found) {
					return nil
				}
				if found[i].done && found[i].kind != messages.ProbeTransient {
					continue
				}
				c.probeOne(gctx, t, &found[i])
			}
		})
	}
	return g.Wait()
}

// probeOne probes one file here and notes what it found.
func (c *Coordinator) probeOne(ctx context.Context, t Table, p *probed) {
	s, err := c.probe(ctx, t.Name, *p.src)
	p.done, p.schema, p.err = true, s, ""
	switch {
	case err == nil:
		p.kind = messages.ProbeOK
		return
	case errors.Is(err, ErrNoRows):
		p.kind = messages.ProbeEmpty
	case errors.Is(err, ErrBadFile) || c.permanent(err):
		// A permanent error reading one object (its ACL, its KMS
		// key) is that file's: the others still load. Credentials
		// or a bucket wrong for all were refused at start.
		p.kind = messages.ProbeBad
	default:
		// Still failing: the file is loaded (and retried) like any
		// other, without a say in the schema.
		p.kind = messages.ProbeTransient
	}
	p.err = err.Error()
}

// probeOnWorkers publishes the files not yet in tasks as probe tasks and
// gathers the workers' findings. Files no finding covers once the findings
// stop coming for ProbeStall (no worker alive, tasks lost with the queue)
// are left to probeHere.
func (c *Coordinator) probeOnWorkers(ctx context.Context, tasks *probeTasks, found []probed, log *slog.Logger) error {
	load, t := tasks.load, tasks.t
	at := make(map[string]int, len(found))
	for i, p := range found {
		at[p.src.Identity()] = i
	}
	rest := make([]*messages.Source, 0, max(len(found)-tasks.published*c.cfg.ProbeTaskFiles, 0))
	for _, p := range found[min(tasks.published*c.cfg.ProbeTaskFiles, len(found)):] {
		rest = append(rest, p.src)
	}
	if err := tasks.publish(ctx, rest); err != nil {
		return err
	}
	// Each read returns the findings stored since the last one, or waits
	// for the next to be stored: a task's findings are seen the moment a
	// worker stores them. The wait is bounded so that a stall is noticed,
	// and grows with the table: findings come a task (100 files) at a time.
	wait := probeWait + time.Duration(tasks.published)*2*time.Millisecond
	done, lastNews, lastLog := 0, time.Now(), time.Now()
	var seen uint64
	for done < len(found) {
		var recs []messages.ProbeRecord
		if err := c.retry(ctx, "reading probe findings", func() (err error) {
			var last uint64
			recs, last, err = c.State.Probes(ctx, load, t.Name, seen, wait)
			if err == nil {
				seen = last
			}
			return err
		}); err != nil {
			return fmt.Errorf("reading probe findings: %w", err)
		}
		before := done
		for _, rec := range recs {
			for _, r := range rec.Results {
				i, ok := at[r.Source.Identity()]
				if !ok || found[i].done {
					continue
				}
				found[i] = probed{src: found[i].src, kind: r.Kind, schema: rec.Schemas[r.Schema], err: r.Error, done: true}
				if r.Kind == messages.ProbeOK && found[i].schema == nil {
					found[i].kind = messages.ProbeTransient // a record without its schema: probe it again
				}
				done++
			}
		}
		now := time.Now()
		if done > before {
			lastNews = now
		}
		if now.Sub(lastLog) >= retryLogEvery {
			log.Info("pre-flight on the workers", "probed", done, "files", len(found))
			lastLog = now
		}
		if done == len(found) {
			break
		}
		if now.Sub(lastNews) > c.cfg.ProbeStall {
			log.Warn("the workers stopped answering probe tasks; the coordinator probes the rest itself",
				"probed", done, "files", len(found), "waited", c.cfg.ProbeStall)
			return nil
		}
	}
	return nil
}

// probeWait bounds how long one read of the workers' probe findings waits
// for the next to be stored: how often, at most, a stall is looked for.
const probeWait = 200 * time.Millisecond
