package decode

import (
	"errors"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Row rejection (on_error: skip_row, as DuckDB's ignore_errors with
// store_rejects): a CSV or JSON row that cannot load is skipped and
// reported instead of failing its file. Only the row's own content is
// forgiven; what breaks the file's structure (an unclosed quote at the
// end, a record over maxRecordBytes, a truncated stream, Parquet) stays
// fatal.

// Reject is one row a decode skipped instead of failing its file.
type Reject struct {
	// Line is where the row starts, counted from 1 as DuckDB's
	// reject_errors counts (a CSV header is line 1; skipped and comment
	// lines count), the line a DataError would name; for JSON, the
	// object's line.
	Line int64
	// Column is the column whose value failed; "" when the whole row is
	// wrong.
	Column string
	Class  string // one of the RejectClass constants
	// Raw is the row's text as in the file, without its line end, at most
	// MaxRejectRawBytes bytes; valid only during the call.
	Raw []byte
	Err error // what would have failed the file (a *DataError)
}

// The classes of a Reject.
const (
	RejectCast           = "cast" // a value does not parse as its column's type
	RejectMissingColumns = "missing_columns"
	RejectTooManyColumns = "too_many_columns" // also a JSON key the table lacks
	RejectInvalidUnicode = "invalid_unicode"
	RejectNull           = "null"         // a null in a non-nullable column
	RejectInvalidJSON    = "invalid_json" // malformed JSON lines object, a repeated key
)

// MaxRejectRawBytes bounds Reject.Raw, so a huge bad row costs its
// reporter little.
const MaxRejectRawBytes = 4096

var (
	errUnknownKey   = errors.New("key is not a column of the table (it first appears after the sampled rows; declare the schema to load it)")
	errMissingValue = errors.New("missing value for a non-nullable column")
)

// rejectClass classifies a row's error; a value that fails its column's
// parser is a cast.
func rejectClass(err error) string {
	switch {
	case errors.Is(err, errNonNullable), errors.Is(err, errMissingValue):
		return RejectNull
	case errors.Is(err, errUTF8):
		return RejectInvalidUnicode
	case errors.Is(err, errUnknownKey):
		return RejectTooManyColumns
	case errors.Is(err, errDuplicateKey):
		return RejectInvalidJSON
	}
	return RejectCast
}

// rowText is a row's raw bytes without the line end, clipped to
// MaxRejectRawBytes.
func rowText(raw []byte) []byte {
	if n := len(raw); n > 0 && raw[n-1] == '\n' {
		raw = raw[:n-1]
	}
	if n := len(raw); n > 0 && raw[n-1] == '\r' {
		raw = raw[:n-1]
	}
	return raw[:min(len(raw), MaxRejectRawBytes)]
}

// rejectGuard tells the caller's OnReject errors apart, so they are
// returned unchanged, as emit's are.
type rejectGuard struct {
	fn  func(Reject) error
	err error
}

func (g *rejectGuard) report(r Reject) error {
	err := g.fn(r)
	if err != nil {
		g.err = err
	}
	return err
}

func (g *rejectGuard) isRejectErr(err error) bool {
	return g != nil && g.err != nil && err == g.err
}

// rejectRow undoes the row being written (row cs.n) and reports it. The
// row's raw columns are rewritten by the next row anyway (every write is
// to row n, see columns.go) except for what a write leaves behind: a
// cleared validity bit, string bytes past the row's start. A builder
// cannot take a value back, so a builder column the row reached is cut:
// its rows so far become a chunk, without the row, and the builder starts
// afresh; finish joins the chunks.
func (cs *columns) rejectRow(onReject func(Reject) error, r Reject) error {
	cs.room() // a row rejected before it began writing
	n := cs.n
	for j := range cs.cols {
		c := &cs.cols[j]
		if c.kind == colGeneric {
			if c.base+c.bld.Len() > n {
				c.cut(n - c.base)
			}
			continue
		}
		c.setValid(n)
		if c.kind == colString || c.kind == colBinary {
			c.str = c.str[:c.o32[n]]
		}
	}
	return onReject(r)
}

// cut keeps the builder's first keep rows as a chunk and empties it.
func (c *column) cut(keep int) {
	a := c.bld.NewArray()
	defer a.Release()
	if keep > 0 {
		c.chunks = append(c.chunks, array.NewSlice(a, 0, int64(keep)))
		c.base += keep
	}
}

// finishChunks is a cut builder column's array: its chunks and what the
// builder holds since, joined.
func (cs *columns) finishChunks(c *column) (arrow.Array, error) {
	chunks := append(c.chunks, c.bld.NewArray())
	c.chunks, c.base = nil, 0
	defer releaseAll(chunks)
	return array.Concatenate(chunks, cs.mem0)
}
