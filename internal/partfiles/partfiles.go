// Package partfiles owns the list of source files a part's Parquet footer
// carries: which files the part holds, in the order of their rows, and how
// many rows each has. A part written by a lost attempt is adopted by it, a
// part is rewritten from it, and a table format masks a changed file's rows
// by it, so it is written and read in this one place.
package partfiles

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/parquet/metadata"
)

// FooterKey is the Parquet footer key-value metadata key of the list.
const FooterKey = "s3load.files"

// File is one file of a part, as its footer lists it.
type File struct {
	// ID names the source file (messages.Source.Identity), with a range's
	// suffix for a part of a split file.
	ID   string `json:"id"`
	Rows int64  `json:"rows"`
}

// Encode is the footer value listing files.
func Encode(files []File) string {
	data, _ := json.Marshal(files) // strings and numbers only: never fails
	return string(data)
}

// Decode reads a footer's list. total is the part's row count, which the
// list must add up to: a list that does not cannot say where a file's rows
// are.
func Decode(desc string, total int64) ([]File, error) {
	var files []File
	if err := json.Unmarshal([]byte(desc), &files); err != nil {
		return nil, fmt.Errorf("its list of files: %w", err)
	}
	var sum int64
	for _, f := range files {
		if f.Rows < 0 {
			return nil, fmt.Errorf("its list of files gives %s %d rows", f.ID, f.Rows)
		}
		sum += f.Rows
	}
	if sum != total {
		return nil, fmt.Errorf("it lists %d rows of files but holds %d", sum, total)
	}
	return files, nil
}

// Read reads the list from a part's Parquet footer, checked against the
// part's rows.
func Read(footer *metadata.FileMetaData) ([]File, error) {
	desc := footer.KeyValueMetadata().FindValue(FooterKey)
	if desc == nil {
		return nil, errors.New("it does not list its files")
	}
	return Decode(*desc, footer.NumRows)
}

// Span is rows [Start, Start+Rows) of a part.
type Span struct{ Start, Rows int64 }

// Spans says where each listed file's rows are in the part. A file listed
// twice keeps its first span.
func Spans(files []File) map[string]Span {
	at := make(map[string]Span, len(files))
	var start int64
	for _, f := range files {
		if _, dup := at[f.ID]; !dup {
			at[f.ID] = Span{Start: start, Rows: f.Rows}
		}
		start += f.Rows
	}
	return at
}
