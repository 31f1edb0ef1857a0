package flatparquet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// dirtyAllocator hands out memory full of garbage, as a recycling
// allocator may: a byte the reader exposes without writing shows.
type dirtyAllocator struct{ memory.Allocator }

func (d dirtyAllocator) Allocate(n int) []byte {
	b := d.Allocator.Allocate(n)
	for i := range b {
		b[i] = 0xa5
	}
	return b
}

func (d dirtyAllocator) Reallocate(n int, b []byte) []byte {
	nb := d.Allocate(n)
	copy(nb, b)
	d.Free(b)
	return nb
}

// encFamily is how a test file's columns are encoded.
type encFamily struct {
	name string
	// applies says whether the family encodes type dt; enc is the
	// encoding asked for (0: dictionary).
	applies func(dt arrow.DataType) bool
	enc     parquet.Encoding
	dict    bool
	// dictLimit, if set, is a dictionary page size small enough to make
	// the writer fall back to PLAIN midway.
	dictLimit int64
}

func physicalInt(dt arrow.DataType) bool {
	switch dt.ID() {
	case arrow.FLOAT32, arrow.FLOAT64, arrow.BOOL, arrow.STRING, arrow.LARGE_STRING, arrow.BINARY, arrow.LARGE_BINARY:
		return false
	}
	return true
}

func isBinary(dt arrow.DataType) bool {
	switch dt.ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.BINARY, arrow.LARGE_BINARY:
		return true
	}
	return false
}

var encFamilies = []encFamily{
	{name: "plain", applies: func(arrow.DataType) bool { return true }, enc: parquet.Encodings.Plain},
	{name: "dict", applies: func(arrow.DataType) bool { return true }, dict: true},
	{name: "dictfallback", applies: func(dt arrow.DataType) bool { return dt.ID() != arrow.BOOL }, dict: true, dictLimit: 1500},
	{name: "delta", applies: physicalInt, enc: parquet.Encodings.DeltaBinaryPacked},
	{name: "deltalength", applies: isBinary, enc: parquet.Encodings.DeltaLengthByteArray},
	{name: "deltabytearray", applies: isBinary, enc: parquet.Encodings.DeltaByteArray},
	{name: "split", applies: func(dt arrow.DataType) bool {
		return !isBinary(dt) && dt.ID() != arrow.BOOL
	}, enc: parquet.Encodings.ByteStreamSplit},
	{name: "rle", applies: func(dt arrow.DataType) bool { return dt.ID() == arrow.BOOL }, enc: parquet.Encodings.RLE},
}

// nullability is a column's: required, or nullable with some nulls.
type nullability struct {
	name     string
	nullable bool
	nulls    nulls
}

var nullabilities = []nullability{
	{"required", false, noNulls},
	{"optional", true, noNulls},
	{"somenulls", true, someNulls},
	{"allnulls", true, allNulls},
}

var codecs = []compress.Compression{compress.Codecs.Uncompressed, compress.Codecs.Snappy, compress.Codecs.Zstd, compress.Codecs.Gzip}

// testFile writes rows of every type fam applies to with pqarrow: small
// pages, several row groups.
func testFile(t testing.TB, fam encFamily, nl nullability, v parquet.DataPageVersion, codec compress.Compression, rows int, seed uint64) []byte {
	t.Helper()
	var fields []arrow.Field
	var cols []arrow.Array
	opts := []parquet.WriterProperty{
		parquet.WithDataPageSize(1024), parquet.WithMaxRowGroupLength(600), parquet.WithBatchSize(128),
		parquet.WithDataPageVersion(v), parquet.WithCompression(codec), parquet.WithDictionaryDefault(false),
	}
	if fam.dictLimit > 0 {
		opts = append(opts, parquet.WithDictionaryPageSizeLimit(fam.dictLimit))
	}
	for i, dt := range testTypes {
		if !fam.applies(dt) {
			continue
		}
		name := fmt.Sprintf("c%d", i)
		fields = append(fields, arrow.Field{Name: name, Type: dt, Nullable: nl.nullable})
		cols = append(cols, genArray(memory.DefaultAllocator, dt, rows, nl.nulls, seed+uint64(i)))
		if fam.dict {
			// no cost-based fallback: the dictionary must be used
			opts = append(opts, parquet.WithDictionaryFor(name, true), parquet.WithDictionaryCostFallbackFor(name, false))
		} else {
			opts = append(opts, parquet.WithEncodingFor(name, fam.enc))
		}
	}
	sc := arrow.NewSchema(fields, nil)
	rec := array.NewRecordBatch(sc, cols, int64(rows))
	defer rec.Release()
	for _, c := range cols {
		c.Release()
	}
	var buf bytes.Buffer
	w, err := pqarrow.NewFileWriter(sc, &buf, parquet.NewWriterProperties(opts...), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		t.Fatal(err)
	}
	writeAll(t, w, []arrow.RecordBatch{rec})
	return buf.Bytes()
}

// readChunk reads column c of row group rg with ColumnReader in batches of
// size n, and returns the concatenation.
func readChunk(pf *file.Reader, rg, c int, dt arrow.DataType, n int, mem memory.Allocator) (arrow.Array, error) {
	pages, err := pf.RowGroup(rg).GetColumnPageReader(c)
	if err != nil {
		return nil, err
	}
	r := NewColumnReader(pages, pf.MetaData().Schema.Column(c), dt, mem)
	defer r.Close()
	var parts []arrow.Array
	defer func() {
		for _, p := range parts {
			p.Release()
		}
	}()
	for {
		arr, err := r.Read(n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if arr.Len() == 0 || arr.Len() > n {
			arr.Release()
			return nil, fmt.Errorf("Read(%d) returned %d rows", n, arr.Len())
		}
		if err := checkArray(arr); err != nil {
			arr.Release()
			return nil, err
		}
		parts = append(parts, arr)
	}
	if len(parts) == 0 {
		return array.MakeArrayOfNull(mem, dt, 0), nil
	}
	return array.Concatenate(parts, mem)
}

// checkArray checks what array.Equal does not look at: the null count
// and the padding bits of bitmaps, which must be zero.
func checkArray(arr arrow.Array) error {
	d := arr.Data()
	n := arr.Len()
	nulls := 0
	for i := range n {
		if arr.IsNull(i) {
			nulls++
		}
	}
	if nulls != arr.NullN() {
		return fmt.Errorf("null count %d, %d nulls", arr.NullN(), nulls)
	}
	bitmaps := []*memory.Buffer{d.Buffers()[0]}
	if arr.DataType().ID() == arrow.BOOL {
		bitmaps = append(bitmaps, d.Buffers()[1])
	}
	for _, b := range bitmaps {
		if b == nil || n%8 == 0 {
			continue
		}
		if last := b.Bytes()[n/8]; last>>(n%8) != 0 {
			return fmt.Errorf("padding bits set: %08b for %d rows", last, n)
		}
	}
	if err := array.Validate(arr); err != nil {
		return err
	}
	return nil
}

// compareFile reads every column chunk of data with ColumnReader in each
// of batches and compares it with pqarrow's reading; it returns how many
// chunks it compared. ColumnReader must support every column unless
// partial.
func compareFile(t *testing.T, data []byte, batches []int, partial bool) int {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 1 << 20}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	compared := 0
	for i, sf := range fr.Manifest.Fields {
		if len(sf.Children) > 0 || sf.ColIndex < 0 {
			continue
		}
		c := sf.ColIndex
		col := pf.MetaData().Schema.Column(c)
		for rg := range pf.NumRowGroups() {
			cc, err := pf.MetaData().RowGroup(rg).ColumnChunk(c)
			if err != nil {
				t.Fatal(err)
			}
			if !ReadSupported(col, sf.Field.Type, cc.Encodings()) {
				if !partial {
					t.Fatalf("column %s (%s as %s, %v) not supported", col.Path(), col.PhysicalType(), sf.Field.Type, cc.Encodings())
				}
				continue
			}
			chunked, err := fr.RowGroup(rg).Column(i).Read(context.Background())
			if err != nil {
				t.Fatalf("pqarrow reading %s row group %d: %v", col.Path(), rg, err)
			}
			want, err := array.Concatenate(chunked.Chunks(), memory.DefaultAllocator)
			chunked.Release()
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range batches {
				got, err := readChunk(pf, rg, c, sf.Field.Type, n, dirtyAllocator{mem})
				if err != nil {
					t.Fatalf("column %s row group %d batches of %d: %v", col.Path(), rg, n, err)
				}
				if !array.Equal(got, want) {
					t.Errorf("column %s (%s) row group %d batches of %d: got\n%v\nwant\n%v", col.Path(), sf.Field.Type, rg, n, got, want)
				}
				got.Release()
			}
			want.Release()
			compared++
		}
	}
	return compared
}

func TestReadDifferential(t *testing.T) {
	const rows = 1300
	files, chunks := 0, 0
	for _, fam := range encFamilies {
		for _, nl := range nullabilities {
			for _, v := range []parquet.DataPageVersion{parquet.DataPageV1, parquet.DataPageV2} {
				for ci, codec := range codecs {
					name := fmt.Sprintf("%s/%s/v%d/%s", fam.name, nl.name, v+1, codec)
					t.Run(name, func(t *testing.T) {
						data := testFile(t, fam, nl, v, codec, rows, uint64(files))
						// every size, each with two codecs: small ones are slow
						batches := []int{[]int{1, 7}[ci%2], 1000, 5000}
						chunks += compareFile(t, data, batches, false)
						checkEncodings(t, data, fam, nl.nulls == allNulls)
					})
					files++
				}
			}
		}
	}
	t.Logf("%d files, %d column chunks compared", files, chunks)
}

// checkEncodings checks the file uses the family's encoding, so the test
// tests what it says.
func checkEncodings(t *testing.T, data []byte, fam encFamily, allNull bool) {
	t.Helper()
	md := readMeta(t, data)
	want := fam.enc
	if fam.dict {
		want = parquet.Encodings.RLEDict
	}
	for c := range md.Schema.NumColumns() {
		cc, err := md.RowGroup(0).ColumnChunk(c)
		if err != nil {
			t.Fatal(err)
		}
		encs := cc.Encodings()
		if md.Schema.Column(c).PhysicalType() == parquet.Types.Boolean && fam.dict {
			continue
		}
		found := false
		for _, e := range encs {
			found = found || e == want
		}
		if !found {
			t.Errorf("column %s encodings %v, want %s", md.Schema.Column(c).Path(), encs, want)
		}
	}
	if fam.dictLimit > 0 && !allNull && !fellBack(t, data) {
		t.Error("no dictionary-encoded chunk falls back to PLAIN pages")
	}
}

// fellBack reports whether a column chunk of data has both dictionary
// and PLAIN data pages.
func fellBack(t *testing.T, data []byte) bool {
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	for c := range pf.MetaData().Schema.NumColumns() {
		pages, err := pf.RowGroup(0).GetColumnPageReader(c)
		if err != nil {
			t.Fatal(err)
		}
		var dict, plain bool
		for pages.Next() {
			switch parquet.Encoding(pages.Page().Encoding()) {
			case parquet.Encodings.Plain:
				_, isData := pages.Page().(file.DataPage)
				plain = plain || isData
			case parquet.Encodings.RLEDict, parquet.Encodings.PlainDict:
				dict = true
			}
		}
		pages.Close()
		if dict && plain {
			return true
		}
	}
	return false
}
