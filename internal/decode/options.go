package decode

import (
	"path"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/s3load/s3load/internal/tempspace"
)

// Format is a source file's encoding.
type Format string

const (
	FormatCSV     Format = "csv"
	FormatJSON    Format = "json"
	FormatParquet Format = "parquet"
)

// Compression is a whole-file compression wrapped around a Format.
type Compression string

const (
	CompressionNone  Compression = "none"
	CompressionGzip  Compression = "gzip"
	CompressionZstd  Compression = "zstd"
	CompressionBzip2 Compression = "bzip2"
)

// CSVOptions configures CSV files. Zero values mean the defaults below.
type CSVOptions struct {
	Delimiter rune // 0 means ',' (or '\t' for a .tsv name)
	Quote     rune // 0 means '"'
	// NoQuote turns quoting off: a quote is data like any other byte.
	NoQuote bool
	// Escape, when set (and not the quote), escapes a quote or itself
	// inside a quoted field (\" and \\); 0 means none: a quote inside a
	// quoted field is doubled.
	Escape rune
	// SkipRows lines are dropped, as they are, before the header (or the
	// first record).
	SkipRows int
	// Comment, when set, makes every line that starts with it skipped.
	Comment    rune
	Header     bool     // the first record names the columns
	NullValues []string // nil means []string{""}; quoted fields are never null
	// Detect makes the dialect settings it names detected rather than
	// taken from the fields above (see csv_detect.go).
	Detect CSVDetect
	// DecimalSeparator is '.' or ','; 0 means '.'. With ',' a number
	// (float or decimal column, and inference) is read with a decimal
	// comma, and a '.' in it makes it no number (see textStyle.number).
	DecimalSeparator byte
	// Location is the zone of a timestamp written without an offset, which
	// is stored as the UTC instant it names there; nil means UTC.
	Location *time.Location
}

// CSVDetect names the CSV dialect settings that are detected: by Infer
// from the file's first lines, which records them in the schema's
// metadata, and by Decode from that metadata (or from the file when the
// schema carries none). A .tsv or .tab name still means a tab delimiter.
type CSVDetect struct{ Delimiter, Quote, Header bool }

// Options says how to read one file.
type Options struct {
	// Format "" means from the name's extension (after any compression
	// extension), and failing that from the content.
	Format Format
	// Compression "" means from the extension (.gz .zst .bz2). Either way the
	// content's magic bytes have the last word.
	Compression Compression
	CSV         CSVOptions
	// Schema is the table's schema; nil means the file's own, inferred.
	Schema *arrow.Schema
	// Columns says how the file's columns may differ from Schema's.
	Columns ColumnPolicy
	// BatchRows is the most rows in one emitted batch; 0 means 64Ki.
	BatchRows int
	// Mem allocates the batches; nil means memory.DefaultAllocator.
	Mem memory.Allocator
	// Range, when set, decodes only the rows one byte range of the file
	// owns: for CSV and JSON lines the lines that start in [Start, End)
	// (a CSV header is still read from the file's start), for Parquet the
	// row groups whose middle byte is in it. The ranges of a file, end to
	// end, decode each row once. Only Splittable files take a range.
	Range *ByteRange
	// MaxDecompressedBytes caps what one compressed file (gzip, zstd or
	// bzip2 around any format) may expand to; 0 means no cap. Parquet
	// compresses inside the file too: the cap also bounds each of its
	// pages and, at a byte a row, the rows its footer declares.
	MaxDecompressedBytes int64
	// MaxCompressionRatio caps a compressed file's decompressed bytes at
	// this many times its size, though never below RatioFloorBytes; 0
	// means no cap. A file's cap is the smaller of the two.
	MaxCompressionRatio int
	// OnReject, when set, makes a CSV or JSON row that cannot load (see
	// Reject) skipped and reported to it instead of failing the file. An
	// error it returns stops the decode and is returned as it is (the
	// caller's max_rejected_rows). Parquet ignores it.
	OnReject func(Reject) error
	// Temp holds the decompressed copy of a whole-file compressed Parquet
	// file (.parquet.gz) while it is read; nil means an unlimited budget in
	// os.TempDir().
	Temp *tempspace.Budget
}

// ColumnPolicy says how a file's set of columns may differ from the
// table's (matched by name either way). The zero value: not at all.
type ColumnPolicy struct {
	// MissingAsNull makes a table column the file lacks null in every
	// row (schema_policy union).
	MissingAsNull bool
	// IgnoreExtra drops the file's columns the table lacks (a declared
	// schema with extra_columns: ignore).
	IgnoreExtra bool
}

// ByteRange is [Start, End) of a file's bytes.
type ByteRange struct{ Start, End int64 }

// Splittable says whether the file called name can be decoded by byte
// ranges with opts: Parquet, CSV or JSON lines, not compressed, and for
// JSON only .jsonl/.ndjson names (a .json file may be one array). A CSV
// range is speculative: a quoted field holding a newline across a range's
// end makes that range fail (the quote never closes), and the caller then
// loads the file whole. A CSV file with skipped rows, comment lines or an
// escape is not split: a range could not find its header, or where a
// record starts.
func Splittable(name string, opts Options) bool {
	s, err := resolve(name, opts)
	if err != nil || s.compression != CompressionNone {
		return false
	}
	base := strings.ToLower(path.Base(name))
	switch s.format {
	case FormatParquet:
		return true
	case FormatCSV:
		return s.quote.skip == 0 && s.quote.comment < 0 && s.quote.escape < 0
	case FormatJSON:
		return strings.HasSuffix(base, ".jsonl") || strings.HasSuffix(base, ".ndjson")
	}
	return false
}

// Describe says what the file called name is read as with opts, from its
// name and the options alone: its format ("" when only its content will
// tell) and its whole-file compression.
func Describe(name string, opts Options) (Format, Compression, error) {
	s, err := resolve(name, opts)
	return s.format, s.compression, err
}

const (
	defaultBatchRows = 64 << 10
	// Inference looks at no more than this many rows and bytes of CSV or
	// JSON, so Infer costs the same on a 1 KB and a 100 GB file.
	sampleRows  = 10_000
	sampleBytes = 4 << 20
	// maxRecordBytes bounds one CSV record or JSON row, so a file with an
	// unterminated quote cannot make us buffer all of it.
	maxRecordBytes = 64 << 20
)

// settings are Options with every default applied.
type settings struct {
	format      Format // "" when neither Options nor the name say
	compression Compression
	delimiter   byte
	// quote is the rest of the CSV dialect: quote, escape, comment, skip.
	quote     csvDialect
	header    bool
	nulls     []string
	text      textOptions // decimal separator and zone
	schema    *arrow.Schema
	columns   ColumnPolicy
	batchRows int
	mem       memory.Allocator
	// generalOnly turns the CSV fast path off, so tests can check that it
	// decodes exactly as the general path does.
	generalOnly bool
	// rowGroups, when set, selects the Parquet row groups whose middle
	// byte is in the range.
	rowGroups *ByteRange
	// detect names the dialect settings to detect; recorded is the
	// table's dialect read from the schema's metadata, detected the one
	// detected from this file (Infer records it in the schema).
	detect   CSVDetect
	recorded *csvDialectChoice
	detected *csvDialectChoice
	// maxDecompressed and maxRatio bound compressed files (limitFor).
	maxDecompressed int64
	maxRatio        int
	temp            *tempspace.Budget
	// onReject is Options.OnReject; nil fails the file on a bad row.
	onReject func(Reject) error
	// readerBuf is the buffer dialect detection read with, handed on to
	// the file's CSV reader: for a small file, allocating one per reader
	// was a large part of its cost.
	readerBuf []byte
	// sampled is how much of the file's start dialect detection read.
	sampled int
}

// resolve applies the defaults of opts for the object called name. Runes
// that are not single bytes are refused: the CSV decoder works on bytes.
func resolve(name string, opts Options) (settings, error) {
	s := settings{
		format:      opts.Format,
		compression: opts.Compression,
		header:      opts.CSV.Header,
		nulls:       opts.CSV.NullValues,
		schema:      opts.Schema,
		columns:     opts.Columns,
		batchRows:   opts.BatchRows,
		mem:         opts.Mem,

		maxDecompressed: opts.MaxDecompressedBytes,
		maxRatio:        opts.MaxCompressionRatio,
		temp:            opts.Temp,
		onReject:        opts.OnReject,
	}
	base := strings.ToLower(path.Base(name))
	if s.compression == "" {
		s.compression, base = compressionFromName(base)
	} else {
		_, base = compressionFromName(base)
	}
	ext := path.Ext(base)
	if s.format == "" {
		s.format = formatFromExt(ext)
	}
	switch s.format {
	case "", FormatCSV, FormatJSON, FormatParquet:
	default:
		return s, dataErrf(name, 0, "", "unknown format %q", s.format)
	}
	switch s.compression {
	case CompressionNone, CompressionGzip, CompressionZstd, CompressionBzip2:
	default:
		return s, dataErrf(name, 0, "", "unknown compression %q", s.compression)
	}
	delim := opts.CSV.Delimiter
	s.detect = opts.CSV.Detect
	if delim == 0 || s.detect.Delimiter {
		delim = ','
		if ext == ".tsv" || ext == ".tab" {
			delim = '\t'
			s.detect.Delimiter = false
		}
	}
	quote := opts.CSV.Quote
	if quote == 0 {
		quote = '"'
	}
	if delim >= 0x80 || quote >= 0x80 || delim == '\n' || delim == '\r' || quote == '\n' || quote == '\r' || delim == quote {
		return s, dataErrf(name, 0, "", "unsupported CSV delimiter %q or quote %q", delim, quote)
	}
	s.delimiter = byte(delim)
	s.quote = csvDialect{quote: int(quote), escape: -1, comment: -1, skip: opts.CSV.SkipRows}
	if opts.CSV.NoQuote {
		s.quote.quote = -1
	}
	if e := opts.CSV.Escape; e != 0 && e != quote && !opts.CSV.NoQuote {
		if e >= 0x80 || e == '\n' || e == '\r' || e == delim {
			return s, dataErrf(name, 0, "", "unsupported CSV escape %q", e)
		}
		s.quote.escape = int(e)
	}
	if cm := opts.CSV.Comment; cm != 0 {
		if cm >= 0x80 || cm == '\n' || cm == '\r' {
			return s, dataErrf(name, 0, "", "unsupported CSV comment %q", cm)
		}
		s.quote.comment = int(cm)
	}
	s.text = textOptions{decimal: opts.CSV.DecimalSeparator, loc: opts.CSV.Location}
	if s.text.decimal == 0 {
		s.text.decimal = '.'
	}
	if s.text.decimal != '.' && s.text.decimal != ',' || s.text.decimal == s.delimiter && !s.detect.Delimiter {
		return s, dataErrf(name, 0, "", "unsupported CSV decimal separator %q with delimiter %q", s.text.decimal, s.delimiter)
	}
	if s.text.loc == time.UTC {
		s.text.loc = nil // the default, which keeps the fast parsers
	}
	if s.quote.skip < 0 {
		return s, dataErrf(name, 0, "", "CSV skip_rows %d is negative", s.quote.skip)
	}
	if s.nulls == nil {
		s.nulls = []string{""}
	}
	if s.format != FormatJSON && s.format != FormatParquet && s.detecting() {
		if d, ok := dialectFromSchema(s.schema); ok {
			if !s.detect.Delimiter {
				d.delim = s.delimiter
			}
			if !s.detect.Quote {
				d.quote = s.quote.quote
			}
			if !s.detect.Header {
				d.header = s.header
			}
			s.recorded = &d
			s.apply(d) // before a byte range needs the header
		}
	}
	if s.batchRows <= 0 {
		s.batchRows = defaultBatchRows
	}
	if s.mem == nil {
		s.mem = memory.DefaultAllocator
	}
	if s.temp == nil {
		s.temp = tempspace.New("", 0)
	}
	return s, nil
}

// compressionFromName returns the compression a lower-cased base name
// declares and the name without that extension.
func compressionFromName(base string) (Compression, string) {
	switch ext := path.Ext(base); ext {
	case ".gz", ".gzip":
		return CompressionGzip, strings.TrimSuffix(base, ext)
	case ".zst", ".zstd":
		return CompressionZstd, strings.TrimSuffix(base, ext)
	case ".bz2":
		return CompressionBzip2, strings.TrimSuffix(base, ext)
	}
	return CompressionNone, base
}

func formatFromExt(ext string) Format {
	switch ext {
	case ".csv", ".tsv", ".tab", ".txt":
		return FormatCSV
	case ".json", ".jsonl", ".ndjson":
		return FormatJSON
	case ".parquet", ".parq", ".pq":
		return FormatParquet
	}
	return ""
}
