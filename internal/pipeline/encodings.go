package pipeline

import (
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/s3load/s3load/internal/flatparquet"
)

// Encodings say how a part's column values are laid out before zstd
// compresses them.
type Encodings int

const (
	// EncodingsDelta writes columns stored as Parquet INT32 or INT64
	// (integers, dates, times, timestamps) DELTA_BINARY_PACKED, string and
	// binary columns with a dictionary where WriterProperties says, and the
	// rest PLAIN. On the 7-column shape of docs/performance.md PLAIN takes
	// 1.37x its writing time and writes 2.5x its bytes; on random values
	// it is no slower and 3% smaller (BenchmarkParquetWrite,
	// BenchmarkParquetWriteRandom). Every current reader decodes it:
	// DuckDB, Spark 3.3+, Trino, pyarrow, arrow-go, Iceberg Java 1.10+ (its
	// vectorized reader before that did not).
	EncodingsDelta Encodings = iota
	// EncodingsPlain writes every column PLAIN, with no dictionary: for
	// readers older than those above.
	EncodingsPlain
	// EncodingsCompact is EncodingsDelta with float and double columns
	// BYTE_STREAM_SPLIT: on the wide shape 2.6x smaller again and ~10%
	// faster to write (BenchmarkParquetWrite), but Spark's vectorized
	// reader had no support before a 2026 change and Iceberg Java's came
	// in 1.11, so it is asked for, not the default. DuckDB, Trino, pyarrow and arrow-go read
	// it.
	EncodingsCompact
)

// String is the config's name of e.
func (e Encodings) String() string {
	switch e {
	case EncodingsDelta:
		return "delta"
	case EncodingsPlain:
		return "plain"
	case EncodingsCompact:
		return "compact"
	}
	return fmt.Sprintf("Encodings(%d)", int(e))
}

// ParseEncodings is the Encodings the config names name (its String).
func ParseEncodings(name string) (Encodings, bool) {
	for _, e := range []Encodings{EncodingsDelta, EncodingsPlain, EncodingsCompact} {
		if e.String() == name {
			return e, true
		}
	}
	return 0, false
}

// WithEncodings sets how parts lay out their integer columns (default
// EncodingsDelta).
func (p *Pipeline) WithEncodings(e Encodings) *Pipeline {
	p.encodings = e
	return p
}

// WriterProperties are the output Parquet settings of a part of schema,
// chosen by BenchmarkParquetWrite (docs/performance.md): zstd level 3,
// which writes files 8% smaller than level 1 at about the same speed.
// Integer columns have no dictionary (hashing every value cost as much as
// zstd's better level, and zstd finds repeated values on its own); string
// and binary columns written by flatparquet have one unless its first
// batches show it would not be smaller than the values (arrow-go's cost
// check): a column of few distinct values in any order becomes a few bits
// a value before zstd, 13% faster and 14% smaller on a shuffled wide shape
// (BenchmarkParquetWriteShuffled), no different on the ordered one.
// Statistics stay on: readers prune row groups with them. Row groups of
// 512Ki rows bound a worker's buffered memory. enc chooses the integer
// columns' encoding.
func WriterProperties(schema *arrow.Schema, enc Encodings) *parquet.WriterProperties {
	return parquet.NewWriterProperties(writerOptions(schema, enc)...)
}

// writerOptions are WriterProperties' settings.
func writerOptions(schema *arrow.Schema, enc Encodings) []parquet.WriterProperty {
	props := []parquet.WriterProperty{
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithCompressionLevel(3),
		parquet.WithDictionaryDefault(false),
		parquet.WithMaxRowGroupLength(512 * 1024),
		parquet.WithCreatedBy("s3load"),
	}
	if enc != EncodingsPlain && schema != nil {
		props = append(props, columnEncodings(schema, enc == EncodingsCompact, flatparquet.Supported(schema))...)
	}
	return props
}

// PartWriter writes one Parquet part: what s3load asks of arrow-go's
// pqarrow.FileWriter, which implements it.
type PartWriter interface {
	// WriteBuffered adds rec's rows to the current row group.
	WriteBuffered(rec arrow.RecordBatch) error
	// AppendKeyValueMetadata adds a footer entry; before Close.
	AppendKeyValueMetadata(key, value string) error
	// Close writes the footer; a second call does nothing.
	Close() error
	// FileMetadata is the footer written, after Close.
	FileMetadata() (*metadata.FileMetaData, error)
}

// NewPartWriter opens a Parquet writer of schema on w with the part
// settings of WriterProperties, storing the Arrow schema in the footer (so
// a reader gets back the exact types, time zones included): how every part
// s3load writes is written. A flat schema (every column a primitive, a
// string or a binary) is written by flatparquet, the same file as
// pqarrow's but in 0.64x its time (BenchmarkWrite there); any other by
// pqarrow.
func NewPartWriter(schema *arrow.Schema, w io.Writer, enc Encodings) (PartWriter, error) {
	props := WriterProperties(schema, enc)
	if flatparquet.Supported(schema) {
		return flatparquet.NewWriter(schema, w, props, true)
	}
	return pqarrow.NewFileWriter(schema, w, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
}

// columnEncodings sets DELTA_BINARY_PACKED for every leaf column of schema
// stored as INT32 or INT64, if split BYTE_STREAM_SPLIT for those stored as
// FLOAT or DOUBLE, and if dict a dictionary for those stored as BYTE_ARRAY
// (falling back to PLAIN), by the column paths arrow-go's writer gives
// them (nested fields included). A schema arrow-go cannot convert gets no
// settings here: its writer reports the error when it opens.
func columnEncodings(schema *arrow.Schema, split, dict bool) []parquet.WriterProperty {
	sc, err := pqarrow.ToParquet(schema, nil, pqarrow.DefaultWriterProps())
	if err != nil {
		return nil
	}
	var props []parquet.WriterProperty
	for i := range sc.NumColumns() {
		col := sc.Column(i)
		switch col.PhysicalType() {
		case parquet.Types.Int32, parquet.Types.Int64:
			props = append(props, parquet.WithEncodingPath(col.ColumnPath(), parquet.Encodings.DeltaBinaryPacked))
		case parquet.Types.Float, parquet.Types.Double:
			if split {
				props = append(props, parquet.WithEncodingPath(col.ColumnPath(), parquet.Encodings.ByteStreamSplit))
			}
		case parquet.Types.ByteArray:
			if dict {
				props = append(props, parquet.WithDictionaryPath(col.ColumnPath(), true),
					parquet.WithDictionaryCostFallbackPath(col.ColumnPath(), true))
			}
		}
	}
	return props
}
