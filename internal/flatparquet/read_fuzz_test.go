package flatparquet

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// FuzzColumnReader reads every supported column of a file: corrupt input
// must fail, not panic. Opening the file is arrow-go's (and recovered:
// its footer parsing panics on some input); the reading is not.
func FuzzColumnReader(f *testing.F) {
	for i, fam := range encFamilies {
		for j, nl := range nullabilities[1:3] {
			v := []parquet.DataPageVersion{parquet.DataPageV1, parquet.DataPageV2}[(i+j)%2]
			f.Add(testFile(f, fam, nl, v, compress.Codecs.Uncompressed, 40, uint64(i)))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) { readEveryColumn(t, data) })
}

// readEveryColumn reads every column of data ColumnReader supports, seven
// rows at a time, checking each array.
func readEveryColumn(t testing.TB, data []byte) {
	pf, manifest := openManifest(data)
	if manifest == nil {
		return
	}
	defer pf.Close()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	_ = supportedChunks(pf, manifest, func(_ int, sf pqarrow.SchemaField, col *schema.Column, rg int) error {
		pages := pageReader(pf, rg, sf.ColIndex)
		if pages == nil {
			return nil
		}
		r := NewColumnReader(pages, col, sf.Field.Type, mem)
		defer r.Close()
		for range 1000 {
			arr, err := r.Read(7)
			if err != nil {
				if !errors.Is(err, io.EOF) && err.Error() == "" {
					t.Fatal("an error without a message")
				}
				break
			}
			if err := checkArray(arr); err != nil {
				t.Fatalf("column %s: %v", col.Path(), err)
			}
			arr.Release()
		}
		return nil
	})
}

// supportedChunks calls fn for each row group of each flat field of
// manifest whose column chunk ReadSupported accepts (field is the index in
// manifest.Fields), and stops at fn's first error.
func supportedChunks(pf *file.Reader, manifest *pqarrow.SchemaManifest, fn func(field int, sf pqarrow.SchemaField, col *schema.Column, rg int) error) error {
	for i, sf := range manifest.Fields {
		if len(sf.Children) > 0 || sf.ColIndex < 0 {
			continue
		}
		col := pf.MetaData().Schema.Column(sf.ColIndex)
		for rg := range pf.NumRowGroups() {
			cc, err := pf.MetaData().RowGroup(rg).ColumnChunk(sf.ColIndex)
			if err != nil || !ReadSupported(col, sf.Field.Type, cc.Encodings()) {
				continue
			}
			if err := fn(i, sf, col, rg); err != nil {
				return err
			}
		}
	}
	return nil
}

// openManifest opens data with arrow-go and maps its columns to Arrow
// types from the Parquet schema alone: an ARROW:schema value in the footer
// can make arrow-go allocate any amount (the decoder checks it first, see
// internal/decode/parquet_arrow_schema.go), and the fuzzer is after the
// column reader, not that. nil if opening fails or panics.
func openManifest(data []byte) (pf *file.Reader, m *pqarrow.SchemaManifest) {
	defer func() {
		if r := recover(); r != nil {
			if pf != nil {
				pf.Close()
			}
			pf, m = nil, nil
		}
	}()
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		return nil, nil
	}
	m, err = pqarrow.NewSchemaManifest(pf.MetaData().Schema, nil, &pqarrow.ArrowReadProperties{})
	if err != nil {
		pf.Close()
		return nil, nil
	}
	return pf, m
}

// pageReader is arrow-go's page reader of a column chunk, nil if it fails
// or panics (it does on some corrupt chunk offsets, before any page is
// read; the decoder recovers and leaves such a chunk to pqarrow).
func pageReader(pf *file.Reader, rg, col int) (pages file.PageReader) {
	defer func() {
		if r := recover(); r != nil {
			pages = nil
		}
	}()
	pages, err := pf.RowGroup(rg).GetColumnPageReader(col)
	if err != nil {
		return nil
	}
	return pages
}
