package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/s3load/s3load/internal/decode"
	"github.com/s3load/s3load/internal/target"
	"github.com/s3load/s3load/messages"
)

// RejectLimit is a table's max_rejected_rows, per file and per table: a
// count, or a percentage of the rows read (0 and 0: no limit).
type RejectLimit struct {
	Rows    int64
	Percent float64
}

// RejectsSchema is the schema of a reject table: where each skipped row
// came from, why, and its text (cf. DuckDB's reject_errors).
func RejectsSchema() *arrow.Schema {
	str := arrow.BinaryTypes.String
	return arrow.NewSchema([]arrow.Field{
		{Name: "load_id", Type: str},
		{Name: "source_bucket", Type: str},
		{Name: "source_key", Type: str},
		{Name: "source_etag", Type: str},
		{Name: "line", Type: arrow.PrimitiveTypes.Int64},
		{Name: "column_name", Type: str, Nullable: true},
		{Name: "error_type", Type: str},
		{Name: "error", Type: str},
		{Name: "raw_line", Type: str},
	}, nil)
}

// rejectBatchRows is how many skipped rows are buffered before they are
// written: rejects are few, and a batch bounds their memory either way.
const rejectBatchRows = 1024

// errTooManyRejects fails a file with more skipped rows than its table
// allows.
var errTooManyRejects = errors.New("too many rejected rows")

// rejectWriter streams one file's skipped rows into a part of the table's
// reject table, created with the first one.
type rejectWriter struct {
	tgt    *target.Target
	mem    memory.Allocator
	enc    Encodings
	plan   *messages.RejectsPlan
	schema *arrow.Schema // written in: the plan's write schema, else its schema
	limit  RejectLimit
	load   string
	src    messages.Source
	rng    *messages.Range

	part   target.Part
	w      PartWriter
	bld    *array.RecordBuilder
	closed bool
	n      int64
	first  string // the first rejected row, for the error of a file over its limit
}

func newRejectWriter(tgt *target.Target, mem memory.Allocator, encodings Encodings, plan *messages.RejectsPlan, limit RejectLimit, load string, src messages.Source, rng *messages.Range) (*rejectWriter, error) {
	enc := plan.WriteSchema
	if len(enc) == 0 {
		enc = plan.Schema
	}
	schema, err := decode.DecodeSchema(enc)
	if err != nil {
		return nil, fmt.Errorf("decoding the reject table's schema: %w", errors.Join(err, errConfig))
	}
	return &rejectWriter{tgt: tgt, mem: mem, enc: encodings, plan: plan, schema: schema, limit: limit, load: load, src: src, rng: rng}, nil
}

// add records one skipped row; past the table's count limit it fails the
// file.
func (r *rejectWriter) add(ctx context.Context, rej decode.Reject) error {
	r.n++
	if r.first == "" {
		r.first = fmt.Sprint(rej.Err) // names the file, line and column
	}
	if r.limit.Rows > 0 && r.n > r.limit.Rows {
		return fmt.Errorf("%s: more than %d rows rejected (max_rejected_rows is %d); the first: %s: %w",
			r.src, r.limit.Rows, r.limit.Rows, r.first, errTooManyRejects)
	}
	if r.bld == nil {
		if err := r.open(ctx); err != nil {
			return err
		}
	}
	str := func(i int, v string) { r.bld.Field(i).(*array.StringBuilder).Append(v) }
	str(0, r.load)
	str(1, r.src.Bucket)
	str(2, r.src.Key)
	str(3, r.src.ETag)
	r.bld.Field(4).(*array.Int64Builder).Append(rej.Line)
	if rej.Column == "" {
		r.bld.Field(5).AppendNull()
	} else {
		str(5, rej.Column)
	}
	str(6, rej.Class)
	msg := ""
	if rej.Err != nil {
		msg = rej.Err.Error()
	}
	str(7, msg)
	str(8, strings.ToValidUTF8(string(rej.Raw), "\uFFFD"))
	if r.bld.Field(0).Len() >= rejectBatchRows {
		return r.flush()
	}
	return nil
}

func (r *rejectWriter) open(ctx context.Context) error {
	part, err := r.tgt.CreatePart(ctx, r.plan.Table, r.load)
	if err != nil {
		return err
	}
	w, err := NewPartWriter(r.schema, part, r.enc)
	if err != nil {
		part.Abort()
		return fmt.Errorf("opening the reject table's parquet writer: %w", err)
	}
	r.part, r.w, r.bld = part, w, array.NewRecordBuilder(r.mem, r.schema)
	return nil
}

func (r *rejectWriter) flush() error {
	rec := r.bld.NewRecordBatch()
	defer rec.Release()
	if err := r.w.WriteBuffered(rec); err != nil {
		return fmt.Errorf("%s: writing rejected rows: %w", r.src, err)
	}
	return nil
}

// finish checks the percentage limit against the rows the file loaded and
// makes the part durable; it returns nil when no row was rejected.
func (r *rejectWriter) finish(ctx context.Context, rows int64) (*messages.RejectsPart, error) {
	if r.n == 0 {
		return nil, nil
	}
	if p := r.limit.Percent; p > 0 && float64(r.n) > p/100*float64(rows+r.n) {
		return nil, fmt.Errorf("%s: %d of %d rows rejected, more than max_rejected_rows %g%%; the first: %s: %w",
			r.src, r.n, rows+r.n, p, r.first, errTooManyRejects)
	}
	if err := r.flush(); err != nil {
		return nil, err
	}
	err := r.w.Close()
	r.closed = true
	if err != nil {
		return nil, fmt.Errorf("closing the reject table's part: %w", err)
	}
	name := messages.PartName(r.src, r.rng)
	size, err := r.part.Commit(ctx, name)
	if err != nil {
		return nil, err
	}
	r.part = nil // committed
	out := &messages.RejectsPart{Path: r.tgt.PartPath(r.load, name), Bytes: size}
	if len(r.plan.WriteSchema) > 0 {
		if out.Stats, err = describePart(r.w, size); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// abort discards the part unless it committed, and frees the buffers; safe
// after finish.
func (r *rejectWriter) abort() {
	if r.bld != nil {
		r.bld.Release()
		r.bld = nil
	}
	if r.w != nil && !r.closed {
		_ = r.w.Close()
		r.closed = true
	}
	if r.part != nil {
		r.part.Abort()
		r.part = nil
	}
}
