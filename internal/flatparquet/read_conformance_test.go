package flatparquet

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/arrow-go/v18/parquet/schema"

	"github.com/s3load/s3load/internal/testenv"
)

// TestReadConformance reads every flat column ColumnReader supports in
// the parquet-testing corpus and compares it with pqarrow's reading; on
// bad_data it must fail or agree, never panic.
func TestReadConformance(t *testing.T) {
	dir := testenv.ParquetConformanceDir(t)
	var compared, failedBad, files int
	for _, sub := range []string{"data", "bad_data"} {
		paths, err := filepath.Glob(filepath.Join(dir, sub, "*.parquet"))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range paths {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			name := sub + "/" + filepath.Base(path)
			c, bad, err := conformFile(data)
			if err != nil {
				if sub == "data" {
					t.Errorf("%s: %v", name, err)
				}
				continue
			}
			files++
			compared += c
			failedBad += bad
			if bad > 0 && sub == "data" {
				t.Errorf("%s: %d chunks fail with ColumnReader that pqarrow reads", name, bad)
			}
		}
	}
	t.Logf("%d files opened, %d column chunks compared with pqarrow, %d bad_data chunks refused by both or ours", files, compared, failedBad)
}

// conformFile compares the supported chunks of data; bad counts chunks
// where ColumnReader fails (pqarrow failing too, or not). A difference in
// values is an error.
func conformFile(data []byte) (compared, bad int, err error) {
	pf, fr := openArrow(data)
	if fr == nil {
		return 0, 0, nil // arrow-go cannot open it: not ours to compare
	}
	defer pf.Close()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	err = supportedChunks(pf, fr.Manifest, func(i int, sf pqarrow.SchemaField, col *schema.Column, rg int) (err error) {
		got, gerr := readChunk(pf, rg, sf.ColIndex, sf.Field.Type, 1000, mem)
		want, werr := pqarrowChunk(fr, rg, i)
		switch {
		case gerr != nil && codecError(gerr):
			// decompression is arrow-go's (the decoder registers the
			// codecs these files need)
		case gerr != nil:
			bad++
		case werr != nil:
			err = fmt.Errorf("column %s row group %d: pqarrow fails (%v), ColumnReader reads %d rows", col.Path(), rg, werr, got.Len())
		case !array.Equal(got, want) && !array.ApproxEqual(got, want, array.WithNaNsEqual(true), array.WithAbsTolerance(0)):
			err = fmt.Errorf("column %s row group %d: values differ from pqarrow's", col.Path(), rg)
		default:
			compared++
		}
		if got != nil {
			got.Release()
		}
		if want != nil {
			want.Release()
		}
		return err
	})
	if err != nil {
		return compared, bad, err
	}
	if mem.CurrentAlloc() != 0 {
		return compared, bad, fmt.Errorf("%d bytes leaked", mem.CurrentAlloc())
	}
	return compared, bad, nil
}

// pqarrowChunk is column i of row group rg as pqarrow reads it.
func pqarrowChunk(fr *pqarrow.FileReader, rg, i int) (arr arrow.Array, err error) {
	defer func() {
		if r := recover(); r != nil {
			arr, err = nil, fmt.Errorf("pqarrow panic: %v", r)
		}
	}()
	chunked, err := fr.RowGroup(rg).Column(i).Read(context.Background())
	if err != nil {
		return nil, err
	}
	defer chunked.Release()
	return array.Concatenate(chunked.Chunks(), memory.DefaultAllocator)
}

// openArrow opens data with arrow-go, nil if it fails or panics.
func openArrow(data []byte) (pf *file.Reader, fr *pqarrow.FileReader) {
	defer func() {
		if r := recover(); r != nil {
			pf, fr = nil, nil
		}
	}()
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		return nil, nil
	}
	fr, err = pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 1 << 16}, memory.DefaultAllocator)
	if err != nil {
		pf.Close()
		return nil, nil
	}
	return pf, fr
}

func codecError(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "compression for") || strings.Contains(msg, "could not decompress")
}
