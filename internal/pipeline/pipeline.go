// Package pipeline owns what happens to one file inside a worker: fetch it
// pinned to its listed ETag, decode it into Arrow record batches in the
// table's schema, and write them as one Parquet part. It also infers a
// table's schema for the coordinator, with the same decoders.
package pipeline

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/s3load/s3load/internal/decode"
	"github.com/s3load/s3load/internal/s3store"
	"github.com/s3load/s3load/internal/target"
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
	mem    memory.Allocator
}

// New returns a pipeline reading through source and writing to tgt; tables
// maps each table name to its decoding options (format, CSV dialect).
func New(source Source, tgt *target.Target, tables map[string]decode.Options, mem memory.Allocator) *Pipeline {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	return &Pipeline{source: source, target: tgt, tables: tables, mem: mem}
}

// ProbeSchema infers the schema of one file and encodes it for tasks.
func (p *Pipeline) ProbeSchema(ctx context.Context, table string, src messages.Source) ([]byte, error) {
	opts, ok := p.tables[table]
	if !ok {
		return nil, fmt.Errorf("table %q is not configured", table)
	}
	opts.Mem = p.mem
	schema, err := decode.Infer(ctx, p.source.Object(src), opts)
	if err != nil {
		return nil, err
	}
	return decode.EncodeSchema(schema)
}

// Load fetches, decodes and writes one file and classifies the result.
func (p *Pipeline) Load(ctx context.Context, task messages.Task) worker.Outcome {
	part, rows, bytes, err := p.load(ctx, task)
	if err != nil {
		return worker.Outcome{Kind: classify(err), Err: err}
	}
	return worker.Outcome{Kind: worker.Loaded, Part: part, Rows: rows, Bytes: bytes}
}

func classify(err error) worker.Kind {
	switch {
	case errors.Is(err, s3store.ErrChanged):
		return worker.Changed
	case decode.IsPermanent(err), errors.Is(err, errConfig):
		return worker.Permanent
	case errors.Is(err, s3store.ErrThrottled):
		return worker.Throttled
	default:
		return worker.Transient
	}
}

var errConfig = errors.New("configuration")

func (p *Pipeline) load(ctx context.Context, task messages.Task) (string, int64, int64, error) {
	src := task.Source
	opts, ok := p.tables[task.Table]
	if !ok {
		return "", 0, 0, fmt.Errorf("%s: table %q is not in this worker's config: %w", src, task.Table, errConfig)
	}
	schema, err := decode.DecodeSchema(task.Schema)
	if err != nil {
		return "", 0, 0, fmt.Errorf("%s: decoding the task's schema: %w", src, errors.Join(err, errConfig))
	}
	opts.Schema, opts.Mem = schema, p.mem

	part, err := p.target.CreatePart(ctx, task.Table, task.LoadID, src)
	if err != nil {
		return "", 0, 0, fmt.Errorf("%s: %w", src, err)
	}
	defer part.Abort()
	w, err := pqarrow.NewFileWriter(schema, part, writerProperties(schema), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return "", 0, 0, fmt.Errorf("%s: opening parquet writer: %w", src, err)
	}
	rows, err := decode.Decode(ctx, p.source.Object(src), opts, func(rec arrow.RecordBatch) error {
		if err := w.WriteBuffered(rec); err != nil {
			return fmt.Errorf("writing parquet: %w", err)
		}
		return nil
	})
	if cerr := w.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("%s: closing parquet writer: %w", src, cerr)
	}
	if err != nil {
		return "", 0, 0, err
	}
	size, err := part.Commit(ctx)
	if err != nil {
		return "", 0, 0, fmt.Errorf("%s: %w", src, err)
	}
	return p.target.PartPath(task.LoadID, src), rows, size, nil
}

// writerProperties are the output Parquet settings, chosen by
// BenchmarkParquetWrite on the 7-column shape (docs/performance.md): zstd
// level 1 writes files 3x smaller than snappy at about the same speed;
// dictionaries are kept for string columns only, where low cardinality is
// common and readers gain most, because hashing every numeric and timestamp
// value halved the writer's speed for no size gain. Row groups of 512Ki rows
// bound a worker's buffered memory.
func writerProperties(schema *arrow.Schema) *parquet.WriterProperties {
	opts := []parquet.WriterProperty{
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithCompressionLevel(1),
		parquet.WithDictionaryDefault(false),
		parquet.WithMaxRowGroupLength(512 * 1024),
		parquet.WithCreatedBy("s3load"),
	}
	for _, f := range schema.Fields() {
		switch f.Type.ID() {
		case arrow.STRING, arrow.LARGE_STRING, arrow.BINARY, arrow.LARGE_BINARY:
			opts = append(opts, parquet.WithDictionaryFor(f.Name, true))
		}
	}
	return parquet.NewWriterProperties(opts...)
}
