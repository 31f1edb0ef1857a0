package decode

import (
	"errors"
	"fmt"
	"strings"
)

// absent stands in a ColumnDiff for a column one side does not have.
const absent = "(absent)"

// SchemaError reports that a file's columns differ from the table's. It
// lists every differing column, not just the first.
type SchemaError struct {
	File  string
	Diffs []ColumnDiff
	// Hint, when set, is the table setting that would load the file
	// ("schema_policy: union").
	Hint string
}

// ColumnDiff is one column whose type differs, or that only one side has
// (its other side is "(absent)").
type ColumnDiff struct {
	Column, Expected, Found string
}

func (e *SchemaError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	b.WriteString(": schema differs from the table")
	for i, d := range e.Diffs {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "column %q: expected %s, found %s", d.Column, d.Expected, d.Found)
	}
	if e.Hint != "" {
		fmt.Fprintf(&b, " (to load it: %s)", e.Hint)
	}
	return b.String()
}

// DataError reports content that cannot be decoded: a malformed row, a
// value that does not fit its column, a corrupt Parquet page. Line is 0 and
// RowGroup -1 where unknown; Column is "" where no single column is to
// blame.
type DataError struct {
	File     string
	Line     int64
	RowGroup int
	Column   string
	Err      error
}

func (e *DataError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	sep := ": "
	if e.Line > 0 {
		fmt.Fprintf(&b, "%sline %d", sep, e.Line)
		sep = ", "
	}
	if e.RowGroup >= 0 {
		fmt.Fprintf(&b, "%srow group %d", sep, e.RowGroup)
		sep = ", "
	}
	if e.Column != "" {
		fmt.Fprintf(&b, "%scolumn %q", sep, e.Column)
	}
	b.WriteString(": ")
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *DataError) Unwrap() error { return e.Err }

// IsPermanent reports whether err is about the file's content (SchemaError
// or DataError), so that retrying cannot help.
func IsPermanent(err error) bool {
	var se *SchemaError
	var de *DataError
	return errors.As(err, &se) || errors.As(err, &de)
}

// dataErr builds a DataError at a position of a text file.
func dataErr(file string, line int64, column string, err error) *DataError {
	return &DataError{File: file, Line: line, RowGroup: -1, Column: column, Err: err}
}

// dataErrf is dataErr with a formatted message.
func dataErrf(file string, line int64, column, format string, args ...any) *DataError {
	return dataErr(file, line, column, fmt.Errorf(format, args...))
}
