// Package pipeline owns what happens to one file inside a worker: fetch it
// pinned to its listed ETag, decode it into Arrow record batches in the
// table's schema, and write them as one Parquet part. It also infers a
// table's schema for the coordinator, with the same decoders.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/s3load/s3load/internal/decode"
	"github.com/s3load/s3load/internal/partfiles"
	"github.com/s3load/s3load/internal/partstats"
	"github.com/s3load/s3load/internal/s3store"
	"github.com/s3load/s3load/internal/target"
	"github.com/s3load/s3load/internal/tempspace"
	_ "github.com/s3load/s3load/internal/zstdpages" // the zstd codec of the parts' pages
	"github.com/s3load/s3load/messages"
	"github.com/s3load/s3load/worker"
)

// Source opens source objects pinned to their listed identity.
type Source interface {
	Object(src messages.Source) *s3store.Object
}

// Pipeline loads files of the tables it knows.
type Pipeline struct {
	source Source
	target *target.Target
	tables map[string]decode.Options
	// policies say how each table's files' schemas merge.
	policies map[string]decode.MergePolicy
	// limits are the max_rejected_rows of tables that skip bad rows.
	limits map[string]RejectLimit
	// probed keeps small files the pre-flight read whole for their load.
	probed probedFiles
	mem    memory.Allocator
	// encodings is how parts lay out their integer columns.
	encodings Encodings
}

// New returns a pipeline reading through source and writing to tgt; tables
// maps each table name to its decoding options (format, CSV dialect).
func New(source Source, tgt *target.Target, tables map[string]decode.Options, mem memory.Allocator) *Pipeline {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	return &Pipeline{source: source, target: tgt, tables: tables, mem: mem}
}

// Splittable says whether a file of table should be loaded by byte ranges:
// its format allows it, and it is not a Parquet file that can be copied
// whole (a copy runs at the store's speed, 3-4x a split's re-encoding per
// core). Only the footer of a big Parquet file is read to tell.
func (p *Pipeline) Splittable(ctx context.Context, table string, schema []byte, src messages.Source) bool {
	opts, ok := p.tables[table]
	if !ok || !decode.Splittable(src.String(), opts) {
		return false
	}
	if s, err := decode.DecodeSchema(schema); isParquet(opts, src) && !p.target.Iceberg() && err == nil && len(schema) > 0 {
		opts.Schema, opts.Mem = s, p.mem
		if _, copyable, err := decode.ParquetCopyable(ctx, p.source.Object(src), opts); err == nil && copyable {
			return false
		}
	}
	return true
}

// Load fetches, decodes and writes the task's files into one part and
// classifies each file's result. A lone file (or one range of a big file)
// streams from the store into the part, and a Parquet file already in the
// table's columns is copied; a batch of small files decodes each file whole
// before writing it, so a file that turns out bad leaves no rows behind and
// the others still load.
func (p *Pipeline) Load(ctx context.Context, task messages.Task, schemas worker.Schemas, progress *worker.Progress) []worker.Outcome {
	outs := make([]worker.Outcome, len(task.Files))
	opts, err := p.options(task, schemas.Decode)
	if err != nil {
		for i, f := range task.Files {
			outs[i] = worker.Outcome{Kind: worker.Permanent, Err: fmt.Errorf("%s: %w", f.Source, err)}
		}
		return outs
	}
	b := &partLoad{p: p, task: task, opts: opts, outs: outs, progress: progress, rejects: schemas.Rejects, limit: p.limits[task.Table]}
	if len(schemas.Write) > 0 {
		if b.conv, err = p.conformer(schemas.Write, opts.Schema); err != nil {
			for i, f := range task.Files {
				outs[i] = worker.Outcome{Kind: worker.Permanent, Err: fmt.Errorf("%s: %w", f.Source, err)}
			}
			return outs
		}
	}
	b.load(ctx)
	return outs
}

func (p *Pipeline) conformer(encoded []byte, decoded *arrow.Schema) (*conformer, error) {
	write, err := decode.DecodeSchema(encoded)
	if err != nil {
		return nil, fmt.Errorf("decoding the table's write schema: %w", errors.Join(err, errConfig))
	}
	c, err := newConformer(decoded, write)
	if err != nil {
		return nil, errors.Join(err, errConfig)
	}
	return c, nil
}

func (p *Pipeline) options(task messages.Task, encoded []byte) (decode.Options, error) {
	opts, ok := p.tables[task.Table]
	if !ok {
		return opts, fmt.Errorf("table %q is not in this worker's config: %w", task.Table, errConfig)
	}
	schema, err := decode.DecodeSchema(encoded)
	if err != nil {
		return opts, fmt.Errorf("decoding the task's schema: %w", errors.Join(err, errConfig))
	}
	opts.Schema, opts.Mem = schema, p.mem
	return opts, nil
}

// classify maps a file's error to what the worker's policy acts on. The
// adapters classified it once; this only reads their kinds.
func classify(err error) worker.Kind {
	switch {
	case errors.Is(err, s3store.ErrChanged):
		return worker.Changed
	case decode.IsPermanent(err), errors.Is(err, errConfig), errors.Is(err, errNoColumns), errors.Is(err, errTooManyRejects), s3store.IsPermanent(err),
		errors.Is(err, target.ErrNoSpace), errors.Is(err, target.ErrNotWritable), alone(err):
		return worker.Permanent
	case errors.Is(err, s3store.ErrThrottled):
		return worker.Throttled
	default:
		return worker.Transient
	}
}

var errConfig = errors.New("configuration")

// errNoColumns: a table schema without columns (a Parquet file of none)
// would make a part no reader opens; none is written.
var errNoColumns = errors.New("the table's schema has no column, and a part without columns is unreadable: none is written")

// alone reports a temporary-space error of a file that needs more than the
// worker's whole budget: waiting for other files to finish cannot help it.
func alone(err error) bool {
	var full *tempspace.FullError
	return errors.As(err, &full) && full.Alone
}

// partLoad is one task's part being written, and its files' outcomes.
type partLoad struct {
	p        *Pipeline
	task     messages.Task
	opts     decode.Options
	outs     []worker.Outcome
	progress *worker.Progress
	// conv converts decoded batches to the table format's write schema;
	// nil writes them as decoded.
	conv *conformer
	// rejects, under on_error: skip_row, is where skipped rows go, within
	// limit.
	rejects *messages.RejectsPlan
	limit   RejectLimit
}

// fileOptions are the decode options of one file, with its skipped rows
// sent to rw (nil: a bad row fails the file).
func (b *partLoad) fileOptions(ctx context.Context, rw *rejectWriter) decode.Options {
	opts := b.opts
	if rw != nil {
		opts.OnReject = func(rej decode.Reject) error { return rw.add(ctx, rej) }
	}
	return opts
}

// rejectWriter is the writer of a file's skipped rows, or nil when its
// table does not skip rows.
func (b *partLoad) rejectWriter(src messages.Source, rng *messages.Range) (*rejectWriter, error) {
	if b.rejects == nil {
		return nil, nil
	}
	return newRejectWriter(b.p.target, b.p.mem, b.p.encodings, b.rejects, b.limit, b.task.LoadID, src, rng)
}

// writeSchema is the schema the part is written in.
func (b *partLoad) writeSchema() *arrow.Schema {
	if b.conv != nil {
		return b.conv.to
	}
	return b.opts.Schema
}

// conform converts rec for writing; the result is the caller's to release.
func (b *partLoad) conform(ctx context.Context, src messages.Source, rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	if b.conv == nil {
		rec.Retain()
		return rec, nil
	}
	return b.conv.apply(ctx, src.String(), rec)
}

// object is src as the decoders read it, its bytes counted as progress.
func (b *partLoad) object(src messages.Source) decode.Object {
	return &countedObject{Object: b.p.loadObject(src), progress: b.progress}
}

func (b *partLoad) load(ctx context.Context) {
	if b.rewrite(ctx) {
		return
	}
	if len(b.task.Files) > 0 && b.task.Files[0].From != "" {
		// The rewrite fell back to the source: say so in every outcome.
		defer func() {
			for i := range b.outs {
				b.outs[i].Fetched = true
			}
		}()
	}
	if b.task.Reissued && b.adopt(ctx) {
		return
	}
	if len(b.task.Files) == 1 {
		if r := b.task.Files[0].Range; r != nil && (r.Start > 0 || r.End < b.task.Files[0].Source.Size) {
			b.opts.Range = &decode.ByteRange{Start: r.Start, End: r.End}
		} else if rows, ok, err := b.copyable(ctx); err != nil {
			b.failAll(err)
			return
		} else if ok && b.copyParquet(ctx, rows) {
			return
		}
	}
	started := time.Now()
	schema := b.writeSchema()
	if schema.NumFields() == 0 {
		b.failAll(errNoColumns)
		return
	}
	part, err := b.p.target.CreatePart(ctx, b.task.Table, b.task.LoadID)
	if err != nil {
		b.failAll(err)
		return
	}
	defer part.Abort()
	w, err := NewPartWriter(schema, part, b.p.encodings)
	if err != nil {
		b.failAll(fmt.Errorf("opening parquet writer: %w", err))
		return
	}
	defer w.Close() // a no-op once closed below; frees buffers on early returns
	var loaded []int
	if len(b.task.Files) == 1 {
		f := b.task.Files[0]
		rw, err := b.rejectWriter(f.Source, f.Range)
		if err != nil {
			b.failAll(err)
			return
		}
		rows, werr, err := b.streamFile(ctx, w, f.Source, rw)
		var rejected *messages.RejectsPart
		if werr == nil && err == nil && rw != nil {
			rejected, err = rw.finish(ctx, rows)
		}
		if rw != nil {
			defer rw.abort()
		}
		switch {
		case werr != nil:
			b.failAll(werr)
			return
		case err != nil:
			b.outs[0] = worker.Outcome{Kind: classify(err), Err: err}
		default:
			b.outs[0] = worker.Outcome{Kind: worker.Loaded, Rows: rows, Rejects: rejected}
			if rw != nil {
				b.outs[0].Rejected = rw.n
			}
			loaded = append(loaded, 0)
		}
	} else {
		var werr error
		if loaded, werr = b.writeBatch(ctx, w); werr != nil {
			b.failAll(werr)
			return
		}
	}
	if len(loaded) == 0 {
		return
	}
	b.finishPart(ctx, part, w, loaded, started) // its outcome is in b.outs
}

// finishPart lists the loaded task files (indexes) in the part's footer,
// closes and commits the part, and completes their outcomes. On failure
// every file of the task fails (failAll) and the error is returned too.
func (b *partLoad) finishPart(ctx context.Context, part target.Part, w PartWriter, loaded []int, started time.Time) error {
	fail := func(err error) error {
		b.failAll(err)
		return err
	}
	if err := w.AppendKeyValueMetadata(partfiles.FooterKey, b.describe(loaded)); err != nil {
		return fail(fmt.Errorf("writing parquet metadata: %w", err))
	}
	writing := time.Now() // what follows finishes and stores the part (metrics)
	if err := w.Close(); err != nil {
		return fail(fmt.Errorf("closing parquet writer: %w", err))
	}
	srcs := make([]messages.Source, len(loaded))
	for j, i := range loaded {
		srcs[j] = b.task.Files[i].Source
	}
	name := messages.PartName(srcs[0], b.task.Files[loaded[0]].Range)
	if len(srcs) > 1 {
		name = messages.BatchPartName(srcs)
	}
	size, err := part.Commit(ctx, name)
	if err != nil {
		return fail(err)
	}
	var stats *messages.PartStats
	if b.conv != nil { // a table format lists the part with its stats
		if stats, err = describePart(w, size); err != nil {
			return fail(err)
		}
	}
	decoding, stored := writing.Sub(started), time.Since(writing)
	for _, i := range loaded {
		o := &b.outs[i]
		o.Part, o.PartFiles, o.Bytes, o.Stats = b.p.target.PartPath(b.task.LoadID, name), len(loaded), size, stats
		o.Decode, o.Write = decoding, stored
	}
	return nil
}

// describePart reads the part's stats from the footer just written.
func describePart(w PartWriter, size int64) (*messages.PartStats, error) {
	md, err := w.FileMetadata()
	if err != nil {
		return nil, fmt.Errorf("reading the written footer: %w", err)
	}
	st, err := partstats.FromFooter(md, size)
	if err != nil {
		return nil, fmt.Errorf("describing the part: %w", err)
	}
	return &st, nil
}

// streamFile decodes a lone file straight into w. werr reports a failed
// write, which breaks the part; err is the file's own failure.
func (b *partLoad) streamFile(ctx context.Context, w PartWriter, src messages.Source, rw *rejectWriter) (rows int64, werr, err error) {
	rows, err = decode.Decode(ctx, b.object(src), b.fileOptions(ctx, rw), func(rec arrow.RecordBatch) error {
		b.progress.AddRows(rec.NumRows())
		out, err := b.conform(ctx, src, rec)
		if err != nil {
			return err
		}
		defer out.Release()
		if err := w.WriteBuffered(out); err != nil {
			werr = fmt.Errorf("%s: writing parquet: %w", src, err)
			return werr
		}
		return nil
	})
	if werr != nil {
		return 0, werr, nil
	}
	return rows, nil, err
}

// batchPrefetch is how many files of a batch are fetched and decoded ahead
// of the writer: small files are dominated by the store's latency, so a
// few in flight keep the worker busy; each is held whole, so few enough to
// bound memory (a batch's files are at most batch.max_file_bytes each).
const batchPrefetch = 4

// decodedFile is one file of a batch decoded whole, or its failure.
type decodedFile struct {
	recs []arrow.RecordBatch
	rows int64
	err  error
	// rejected rows were skipped into rejects.
	rejected int64
	rejects  *messages.RejectsPart
	// slotted: the file holds a prefetch slot, which the writer frees.
	slotted bool
}

func (d decodedFile) release() {
	for _, r := range d.recs {
		r.Release()
	}
}

// writeBatch decodes the batch's files, a few at a time, and writes each
// one that decoded whole into w, in task order. It returns the indexes of
// the files written; werr means the part is broken.
func (b *partLoad) writeBatch(ctx context.Context, w PartWriter) (loaded []int, werr error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	files := b.task.Files
	results := make([]chan decodedFile, len(files))
	for i := range results {
		results[i] = make(chan decodedFile, 1)
	}
	// A decoder takes a prefetch slot, then the next file: the files that
	// hold slots are always the next ones the writer wants, so it never
	// waits on a file that waits for a slot. Once the batch is stopped, a
	// decoder takes the rest without slots and fails each at once. Each
	// decoder goes through many files on the stack the first one grew (the
	// SDK's call chain is deep): a goroutine per file copied its stack up
	// again for every file.
	slots := make(chan struct{}, batchPrefetch)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(batchPrefetch, len(files)) {
		wg.Add(1)
		go func() { // owned here: wg.Wait below outlives it.
			defer wg.Done()
			for {
				slotted := true
				select {
				case slots <- struct{}{}:
				case <-ctx.Done():
					slotted = false
				}
				i := int(next.Add(1) - 1)
				if i >= len(files) {
					if slotted {
						<-slots
					}
					return
				}
				d := decodedFile{err: ctx.Err()}
				if slotted {
					d = b.decodeWhole(ctx, files[i].Source, files[i].Range)
				}
				d.slotted = slotted
				results[i] <- d
			}
		}()
	}
	defer func() {
		// On an early return, stop the decoders and free what they made.
		cancel()
		wg.Wait()
		for _, ch := range results {
			select {
			case d := <-ch:
				d.release()
			default:
			}
		}
	}()
	for i, f := range files {
		d := <-results[i]
		if d.slotted {
			<-slots
		}
		if d.err != nil {
			b.outs[i] = worker.Outcome{Kind: classify(d.err), Err: d.err}
			continue
		}
		for _, rec := range d.recs {
			if err := w.WriteBuffered(rec); err != nil {
				d.release()
				return nil, fmt.Errorf("%s: writing parquet: %w", f.Source, err)
			}
		}
		d.release()
		b.outs[i] = worker.Outcome{Kind: worker.Loaded, Rows: d.rows, Rejected: d.rejected, Rejects: d.rejects}
		loaded = append(loaded, i)
	}
	return loaded, nil
}

// decodeWhole decodes one file, holding its batches: a file that fails
// midway must leave no rows in the part.
func (b *partLoad) decodeWhole(ctx context.Context, src messages.Source, rng *messages.Range) decodedFile {
	var d decodedFile
	rw, err := b.rejectWriter(src, rng)
	if err != nil {
		return decodedFile{err: err}
	}
	if rw != nil {
		defer rw.abort()
	}
	d.rows, d.err = decode.Decode(ctx, b.object(src), b.fileOptions(ctx, rw), func(rec arrow.RecordBatch) error {
		b.progress.AddRows(rec.NumRows())
		out, err := b.conform(ctx, src, rec)
		if err != nil {
			return err
		}
		d.recs = append(d.recs, out)
		return nil
	})
	if d.err == nil && rw != nil {
		d.rejected = rw.n
		d.rejects, d.err = rw.finish(ctx, d.rows)
	}
	if d.err != nil {
		d.release()
		d.recs = nil
	}
	return d
}

// copyable says whether the task's one file is Parquet that can become
// its part unchanged (decode.ParquetCopyable).
func (b *partLoad) copyable(ctx context.Context) (int64, bool, error) {
	src := b.task.Files[0].Source
	if !isParquet(b.opts, src) || b.conv != nil {
		// A table format's parts need its field IDs, which a source file
		// does not carry: re-encode.
		return 0, false, nil
	}
	// An error here is the store's (a malformed file is reported by the
	// decoder, not here): end the attempt with it rather than read the file
	// again to decode it, which under throttling would double the GETs and
	// hide the throttling from the retry policy.
	rows, ok, err := decode.ParquetCopyable(ctx, b.p.source.Object(src), b.opts)
	if err != nil {
		return 0, false, fmt.Errorf("reading the footer: %w", err)
	}
	return rows, ok, nil
}

// isParquet says whether src is to be read as Parquet, by the table's
// format or, failing that, its name.
func isParquet(opts decode.Options, src messages.Source) bool {
	return opts.Format == decode.FormatParquet || (opts.Format == "" && strings.HasSuffix(strings.ToLower(src.Key), ".parquet"))
}

// copyParquet copies the file into its part as it is, then decodes the
// copy (without encoding anything) to prove every page readable and count
// its rows: the part is exactly the source, so what a reader gets is what
// the file's writer chose (compression, encodings, row groups). It returns
// false, having recorded nothing, when the copy's decoded rows are not the
// footer's: the file is then decoded and re-encoded with a correct footer.
func (b *partLoad) copyParquet(ctx context.Context, footerRows int64) bool {
	src := b.task.Files[0].Source
	started := time.Now()
	part, err := b.p.target.CreatePart(ctx, b.task.Table, b.task.LoadID)
	if err != nil {
		b.failAll(err)
		return true
	}
	defer part.Abort()
	body, err := b.object(src).Open(ctx)
	if err != nil {
		b.outs[0] = worker.Outcome{Kind: classify(err), Err: err}
		return true
	}
	w := &countingWriter{w: part}
	_, err = io.Copy(w, body)
	_ = body.Close()
	switch {
	case w.err != nil:
		b.failAll(fmt.Errorf("writing part: %w", w.err))
		return true
	case err != nil:
		b.outs[0] = worker.Outcome{Kind: classify(err), Err: err}
		return true
	}
	copied := decode.ReaderObject(src.String(), part, w.n)
	rows, err := decode.Decode(ctx, copied, b.opts, func(rec arrow.RecordBatch) error {
		b.progress.AddRows(rec.NumRows())
		return nil
	})
	if err != nil {
		b.outs[0] = worker.Outcome{Kind: classify(err), Err: err}
		return true
	}
	if rows != footerRows {
		return false
	}
	name := messages.PartName(src, b.task.Files[0].Range)
	writing := time.Now()
	size, err := part.Commit(ctx, name)
	if err != nil {
		b.failAll(err)
		return true
	}
	b.outs[0] = worker.Outcome{Kind: worker.Loaded, Rows: rows, Part: b.p.target.PartPath(b.task.LoadID, name), PartFiles: 1, Bytes: size,
		Decode: writing.Sub(started), Write: time.Since(writing)}
	return true
}

// countingWriter counts bytes written and keeps the write error, to tell
// it from a read error after io.Copy.
type countingWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	if err != nil {
		c.err = err
	}
	return n, err
}

// failAll marks every file of the task failed by err (a failure of the part,
// not of any one file).
func (b *partLoad) failAll(err error) {
	for i, f := range b.task.Files {
		b.outs[i] = worker.Outcome{Kind: classify(err), Err: fmt.Errorf("%s: %w", f.Source, err)}
	}
}
