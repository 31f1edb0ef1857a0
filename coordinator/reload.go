package coordinator

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/s3load/s3load/messages"
)

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
func (c *Coordinator) reload(ctx context.Context, load, table string, stranded []messages.FileRecord, round int, log *slog.Logger) error {
	if err := c.unkeep(ctx, load, table, stranded); err != nil {
		return err
	}
	var files []messages.TaskFile
	for _, f := range stranded {
		rec, rev, err := c.readFile(ctx, load, table, f.Token())
		if err != nil || rec.State != messages.StateLoaded || rec.Part != f.Part {
			if err != nil {
				return err
			}
			continue // moved on since: nothing to undo
		}
		rev, err = c.resetFile(ctx, rec, "loading again: its part "+f.Part+" also holds a file recorded in another part")
		if err != nil {
			return err
		}
		if rev != 0 {
			files = append(files, messages.TaskFile{Source: f.Source, Range: f.Range, Revision: rev})
		}
	}
	if len(files) == 0 {
		return nil
	}
	log.Warn("files of incomplete batch parts loaded again", "files", len(files), "round", round)
	return c.publishAlone(ctx, load, table, files)
}

// publishAlone publishes each file's task on its own (never batched), with
// fresh IDs.
func (c *Coordinator) publishAlone(ctx context.Context, load, table string, files []messages.TaskFile) error {
	for _, f := range files {
		if err := c.publish(ctx, load, table, []messages.TaskFile{f}, true, nil); err != nil {
			return err
		}
	}
	return nil
}

// readFile reads a file's record with retries; a missing one is reported
// as a zero record and no error.
func (c *Coordinator) readFile(ctx context.Context, load, table, token string) (messages.FileRecord, uint64, error) {
	var rec messages.FileRecord
	var rev uint64
	err := c.retry(ctx, "reading a file record", func() (err error) {
		rec, rev, err = c.State.File(ctx, load, table, token)
		return err
	})
	if isNotFound(err) {
		return messages.FileRecord{}, 0, nil
	}
	return rec, rev, err
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
func (c *Coordinator) unsplit(ctx context.Context, load, table string, firsts []messages.FileRecord, round int, log *slog.Logger) error {
	var files []messages.TaskFile
	for _, first := range firsts {
		for i := 1; i < first.Range.Count; i++ {
			r := *first.Range
			r.Index = i
			rec, rev, err := c.readFile(ctx, load, table, messages.RecordToken(first.Source, &r))
			if err != nil {
				return err
			}
			if rev == 0 {
				continue
			}
			rec.State, rec.Part, rec.PartFiles, rec.Rows, rec.Bytes = messages.StateMerged, "", 0, 0, 0
			rec.Error, rec.Updated = "", time.Now().UTC()
			if _, err := c.putFile(ctx, rec, rev); err != nil {
				return err
			}
		}
		whole := messages.Range{Index: 0, Count: first.Range.Count, Start: 0, End: first.Source.Size}
		rec, rev, err := c.readFile(ctx, load, table, first.Token())
		if err != nil {
			return err
		}
		if rev == 0 {
			continue
		}
		rec.Range, rec.State, rec.Attempts, rec.FailingSince = &whole, messages.StateListed, 0, time.Time{}
		rec.Part, rec.PartFiles, rec.Rows, rec.Bytes, rec.Stats = "", 0, 0, 0, nil
		rec.Error, rec.Updated = "", time.Now().UTC()
		if rev, err = c.putFile(ctx, rec, rev); err != nil {
			return err
		}
		files = append(files, messages.TaskFile{Source: first.Source, Range: &whole, Revision: rev})
	}
	if len(files) == 0 {
		return nil
	}
	log.Warn("split files with a failed range loaded again whole", "files", len(files), "round", round)
	return c.publishAlone(ctx, load, table, files)
}

// reloadParts sets the files recorded in parts the commit found missing or
// wrong back to listed and publishes them, so they load again (their
// workers adopt a part that did turn up whole).
func (c *Coordinator) reloadParts(ctx context.Context, load, table string, files []messages.FileRecord, parts []string, round int) error {
	bad := map[string]bool{}
	for _, p := range parts {
		bad[p] = true
	}
	var gone []messages.FileRecord
	for _, f := range files {
		if f.State == messages.StateLoaded && bad[f.Part] {
			gone = append(gone, f)
		}
	}
	if err := c.unkeep(ctx, load, table, gone); err != nil {
		return err
	}
	var again []messages.TaskFile
	for _, f := range gone {
		rev, err := c.resetFile(ctx, f, "loading again: its part "+f.Part+" was missing or damaged at commit (round "+strconv.Itoa(round)+")")
		if err != nil {
			return err
		}
		if rev != 0 {
			again = append(again, messages.TaskFile{Source: f.Source, Range: f.Range, Revision: rev})
		}
	}
	return c.publish(ctx, load, table, again, true, nil)
}
