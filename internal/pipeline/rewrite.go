package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/s3load/s3load/internal/partfiles"
	"github.com/s3load/s3load/worker"
)

// rewriteBatchRows is how many rows a rewrite reads from the committed part
// at a time.
const rewriteBatchRows = 64 << 10

// rowSpan is where one file's rows sit in a committed part.
type rowSpan struct {
	file        int // index in the task
	start, rows int64
}

// rewrite loads a task whose files' rows a committed part already holds
// (TaskFile.From: unchanged files that shared a batch part with a changed
// or deleted one) by copying those rows into a new part, without fetching
// the files. It returns false, having recorded nothing, when the task is
// not such a task or the committed part cannot vouch for the rows (gone,
// not listing the files in its footer, another schema): the files are then
// loaded from the source as usual, which gives the same rows.
func (b *partLoad) rewrite(ctx context.Context) bool {
	files := b.task.Files
	if len(files) == 0 || files[0].From == "" || b.rejects != nil {
		return false
	}
	from := files[0].From
	for _, f := range files {
		if f.From != from || f.Range != nil {
			return false
		}
	}
	err := b.copyRows(ctx, from)
	if err == nil {
		return true
	}
	if ctx.Err() != nil || errors.Is(err, errPartBroken) {
		// Stopped, or the new part could not be written: the files' outcome
		// stands (failAll), as a part written from the source would fail
		// the same way.
		return true
	}
	for i := range b.outs {
		b.outs[i] = worker.Outcome{}
	}
	return false
}

// errPartBroken marks a failure to write the new part, as opposed to a
// committed part that cannot be read or trusted.
var errPartBroken = errors.New("writing the rewritten part")

// copyRows writes the task's files' rows, read from the committed part
// from, into a new part. Files keep the committed part's order.
func (b *partLoad) copyRows(ctx context.Context, from string) error {
	started := time.Now()
	src, err := b.p.target.OpenCommittedPart(ctx, b.task.Table, from)
	if err != nil {
		return err
	}
	defer src.Close()
	pf, err := file.NewParquetReader(src)
	if err != nil {
		return fmt.Errorf("reading committed part %s: %w", from, err)
	}
	defer pf.Close()
	spans, err := b.spans(pf, from)
	if err != nil {
		return err
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: rewriteBatchRows}, b.p.mem)
	if err != nil {
		return fmt.Errorf("reading committed part %s: %w", from, err)
	}
	schema := b.writeSchema()
	read, err := fr.Schema()
	if err != nil {
		return fmt.Errorf("reading committed part %s: schema: %w", from, err)
	}
	if !sameTypes(read, schema) {
		return fmt.Errorf("committed part %s is not in the table's write schema", from)
	}
	rr, err := fr.GetRecordReader(ctx, nil, nil)
	if err != nil {
		return fmt.Errorf("reading committed part %s: %w", from, err)
	}
	defer rr.Release()

	part, err := b.p.target.CreatePart(ctx, b.task.Table, b.task.LoadID)
	if err != nil {
		b.failAll(err)
		return errors.Join(errPartBroken, err)
	}
	defer part.Abort()
	w, err := NewPartWriter(schema, part, b.p.encodings)
	if err != nil {
		b.failAll(fmt.Errorf("opening parquet writer: %w", err))
		return errPartBroken
	}
	defer w.Close() // a no-op once closed below
	// Walk the committed part's batches once, writing the slices of each
	// that fall in the runs of kept rows: one write per run and batch, not
	// per file.
	runs := rowRuns(spans)
	var pos int64
	next := 0
	for rr.Next() {
		rec := rr.RecordBatch()
		n := rec.NumRows()
		for next < len(runs) && runs[next].start < pos+n {
			r := runs[next]
			lo, hi := max(r.start, pos), min(r.end, pos+n)
			slice := rec.NewSlice(lo-pos, hi-pos)
			out := array.NewRecordBatch(schema, slice.Columns(), hi-lo)
			err := w.WriteBuffered(out)
			out.Release()
			slice.Release()
			if err != nil {
				b.failAll(fmt.Errorf("writing parquet: %w", err))
				return errPartBroken
			}
			b.progress.AddRows(hi - lo)
			if r.end > pos+n {
				break // the run goes on in the next batch
			}
			next++
		}
		pos += n
	}
	if err := rr.Err(); err != nil {
		return fmt.Errorf("reading committed part %s: %w", from, err)
	}
	if next < len(runs) {
		return fmt.Errorf("committed part %s ended at row %d, before its files' rows", from, pos)
	}
	loaded := make([]int, len(spans))
	for j, s := range spans {
		loaded[j] = s.file
		b.outs[s.file] = worker.Outcome{Kind: worker.Loaded, Rows: s.rows}
	}
	if err := b.finishPart(ctx, part, w, loaded, started); err != nil {
		return errors.Join(errPartBroken, err)
	}
	return nil
}

// spans finds each task file's rows in the committed part from its
// footer's list of files (written by every batch part), sorted by start.
func (b *partLoad) spans(pf *file.Reader, from string) ([]rowSpan, error) {
	listed, err := partfiles.Read(pf.MetaData())
	if err != nil {
		return nil, fmt.Errorf("committed part %s: %w", from, err)
	}
	at := partfiles.Spans(listed)
	spans := make([]rowSpan, 0, len(b.task.Files))
	for i, f := range b.task.Files {
		id := fileID(f)
		span, ok := at[id]
		if !ok {
			return nil, fmt.Errorf("committed part %s does not hold %s (or the task names it twice)", from, f.Source)
		}
		delete(at, id)
		spans = append(spans, rowSpan{file: i, start: span.Start, rows: span.Rows})
	}
	slices.SortStableFunc(spans, func(a, b rowSpan) int { return cmp.Compare(a.start, b.start) })
	return spans, nil
}

// rowRun is rows [start, end) of a committed part.
type rowRun struct{ start, end int64 }

// rowRuns merges spans sorted by start into runs of adjacent rows; files of
// no rows take none.
func rowRuns(spans []rowSpan) []rowRun {
	var runs []rowRun
	for _, s := range spans {
		switch {
		case s.rows == 0:
		case len(runs) > 0 && runs[len(runs)-1].end == s.start:
			runs[len(runs)-1].end += s.rows
		default:
			runs = append(runs, rowRun{s.start, s.start + s.rows})
		}
	}
	return runs
}

// sameTypes says whether a part read in schema got can be written in
// want: the same columns, of the same types.
func sameTypes(got, want *arrow.Schema) bool {
	if got.NumFields() != want.NumFields() {
		return false
	}
	for i, f := range want.Fields() {
		g := got.Field(i)
		if g.Name != f.Name || !arrow.TypeEqual(g.Type, f.Type) {
			return false
		}
	}
	return true
}
