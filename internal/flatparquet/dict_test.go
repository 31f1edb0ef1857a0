package flatparquet

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
)

// dictShape is how many distinct values a dictionary test's column holds,
// how it is written, and whether its chunks keep their dictionary.
type dictShape struct {
	name     string
	distinct int
	limit    int64 // 0: arrow-go's default
	cost     bool  // arrow-go's cost check on
	keeps    bool
}

var dictShapes = []dictShape{
	{name: "few", distinct: 20, keeps: true},
	// the dictionary passes its limit after a few batches: the chunk falls
	// back to PLAIN
	{name: "fallback", distinct: 5000, limit: 600},
	{name: "one", distinct: 1, keeps: true},
	{name: "few-costcheck", distinct: 20, cost: true, keeps: true},
	// the first batch is mostly distinct values: the dictionary is dropped
	{name: "many-costcheck", distinct: 5000, cost: true},
}

// genDictArray builds n values of type dt drawn from distinct values
// (empty, ASCII, not ASCII, bytes above 0x7f for the unsigned order),
// deterministic for seed.
func genDictArray(mem memory.Allocator, dt arrow.DataType, n int, nl nulls, distinct int, seed uint64) arrow.Array {
	r := rand.New(rand.NewPCG(seed, uint64(distinct)))
	pool := make([][]byte, distinct)
	for i := range pool {
		switch i % 4 {
		case 0:
			pool[i] = fmt.Appendf(nil, "city number %d", i)
		case 1:
			pool[i] = fmt.Appendf(nil, "Zürich %d", i)
		case 2:
			pool[i] = []byte{0xff, byte(i), byte(i >> 8)}
		default:
			pool[i] = fmt.Appendf(nil, "%d", i)
		}
	}
	pool[0] = nil // the empty string
	b := array.NewBuilder(mem, dt)
	defer b.Release()
	for range n {
		if nl == allNulls || (nl == someNulls && r.IntN(4) == 0) {
			b.AppendNull()
			continue
		}
		v := pool[r.IntN(distinct)]
		switch b := b.(type) {
		case *array.StringBuilder:
			b.Append(string(v))
		case *array.LargeStringBuilder:
			b.Append(string(v))
		case *array.BinaryBuilder:
			b.Append(v)
		}
	}
	return b.NewArray()
}

// TestDictionary writes byte-array columns with a dictionary, in every
// layout, with and without nulls, with few distinct values and with more
// than the dictionary's size limit, reads them back with pqarrow and with
// ColumnReader, and compares each file with pqarrow's of the same batches
// and properties: encodings, dictionary pages, page counts and their
// encodings, statistics of chunks and pages.
func TestDictionary(t *testing.T) {
	types := []arrow.DataType{arrow.BinaryTypes.String, arrow.BinaryTypes.LargeString, arrow.BinaryTypes.Binary, arrow.BinaryTypes.LargeBinary}
	for _, dt := range types {
		for _, sh := range dictShapes {
			for _, nl := range []nulls{noNulls, someNulls, allNulls} {
				for _, l := range layouts {
					t.Run(fmt.Sprintf("%s/%s/%s/%s", dt, sh.name, nl, l.name), func(t *testing.T) {
						sc := arrow.NewSchema([]arrow.Field{{Name: "c", Type: dt, Nullable: true}}, nil)
						mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
						defer mem.AssertSize(t, 0)
						var batches []arrow.RecordBatch
						for i, n := range l.batches {
							col := genDictArray(mem, dt, n, nl, sh.distinct, uint64(i))
							batches = append(batches, array.NewRecordBatch(sc, []arrow.Array{col}, int64(n)))
							col.Release()
						}
						defer release(batches)
						more := append([]parquet.WriterProperty{parquet.WithDictionaryFor("c", true),
							parquet.WithDictionaryCostFallbackFor("c", sh.cost)}, l.props...)
						if sh.limit > 0 {
							more = append(more, parquet.WithDictionaryPageSizeLimit(sh.limit))
						}
						flat := writeFlat(t, batches, sc, testProps(mem, more...), true)
						checkRoundTrip(t, flat, sc, batches)
						compareFile(t, flat, []int{1, 100, 1 << 20}, false)
						pq := writePqarrow(t, batches, sc, testProps(memory.DefaultAllocator, more...), true)
						compareFiles(t, flat, pq)
						checkDictionaryChunks(t, flat, nl, sh, l)
					})
				}
			}
		}
	}
}

// checkDictionaryChunks checks that a chunk's dictionary page comes
// before its data pages, that the shapes of few distinct values keep their
// dictionary (but where the cost check drops an all-null one), and that
// the others fall back to PLAIN (but where the first batch fills a page,
// before the cost check would look).
func checkDictionaryChunks(t *testing.T, data []byte, nl nulls, sh dictShape, l layout) {
	t.Helper()
	md := readMeta(t, data)
	for g := range md.NumRowGroups() {
		cc, err := md.RowGroup(g).ColumnChunk(0)
		if err != nil {
			t.Fatal(err)
		}
		if cc.NumValues() == 0 {
			continue // an empty dictionary page and no data page, as pqarrow's
		}
		if cc.HasDictionaryPage() && cc.DictionaryPageOffset() >= cc.DataPageOffset() {
			t.Errorf("row group %d: dictionary page at %d, data at %d", g, cc.DictionaryPageOffset(), cc.DataPageOffset())
		}
		plain := slices.Contains(encodingStats(cc), "DATA_PAGE PLAIN")
		switch {
		case sh.keeps && !(sh.cost && nl == allNulls) && (plain || !cc.HasDictionaryPage()):
			t.Errorf("row group %d: %d values of %d distinct not all with the dictionary: %v", g, cc.NumValues(), sh.distinct, encodingStats(cc))
		case !sh.keeps && !(sh.cost && l.name == "pages") && nl != allNulls && cc.NumValues() >= 500 && !plain:
			t.Errorf("row group %d: %d values of %d distinct did not fall back: %v", g, cc.NumValues(), sh.distinct, encodingStats(cc))
		}
	}
}

// TestDictionaryIndices checks the bit-packed runs of dictionary indices
// with the reader's decoding of them (hybrid, which TestReadDifferential
// checks on arrow-go's files), for every width and for counts around the
// group, block and run sizes: the whole data is runs, nothing after them.
func TestDictionaryIndices(t *testing.T) {
	for width := 1; width <= 32; width++ {
		for _, n := range []int{1, 7, 8, 9, 31, 33, bitPackedRunMax - 1, bitPackedRunMax, bitPackedRunMax + 1, 3*bitPackedRunMax + 5} {
			r := rand.New(rand.NewPCG(uint64(width), uint64(n)))
			v := make([]uint32, n)
			for i := range v {
				v[i] = uint32(r.Uint64() & (1<<width - 1))
			}
			data := appendBitPacked(nil, v, width)
			var h hybrid
			h.reset(data, width)
			got := make([]uint32, n)
			if err := h.indices(got, math.MaxInt); err != nil {
				t.Fatalf("width %d, %d values: %v", width, n, err)
			}
			if !slices.Equal(got, v) {
				t.Fatalf("width %d, %d values: read back %v, wrote %v", width, n, got, v)
			}
			if h.pos != len(data) {
				t.Errorf("width %d, %d values: %d bytes after the runs", width, n, len(data)-h.pos)
			}
		}
	}
}

// FuzzDictionary writes strings cut from the input (a 0xff byte ends a
// value, a 0xfe one is a null) with a dictionary, the page size, batch size
// and dictionary limit taken from the input's first bytes, and reads them
// back with pqarrow and ColumnReader.
func FuzzDictionary(f *testing.F) {
	f.Add([]byte{8, 2, 1, 'a', 0xff, 'b', 0xff, 'a', 0xfe, 'c', 0xff, 'a'})
	f.Add([]byte{1, 1, 0, 0xfe, 0xfe, 0xff, 0xff, 'x'})
	f.Add(append([]byte{200, 40, 3}, bytes.Repeat([]byte("city number 1\xffcity number 2\xff\xfe"), 300)...))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < 3 {
			return
		}
		pageSize, batch, limit := int64(in[0])*8+1, int64(in[1])+1, int64(in[2])*16
		mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
		defer mem.AssertSize(t, 0)
		b := array.NewStringBuilder(mem)
		defer b.Release()
		start := 3
		for i := 3; i <= len(in); i++ {
			switch {
			case i == len(in) || in[i] == 0xff:
				b.Append(string(in[start:i]))
				start = i + 1
			case in[i] == 0xfe:
				b.AppendNull()
				start = i + 1
			}
		}
		col := b.NewArray()
		defer col.Release()
		sc := arrow.NewSchema([]arrow.Field{{Name: "c", Type: arrow.BinaryTypes.String, Nullable: true}}, nil)
		rec := array.NewRecordBatch(sc, []arrow.Array{col}, int64(col.Len()))
		defer rec.Release()
		batches := []arrow.RecordBatch{rec}
		props := testProps(mem, parquet.WithDictionaryFor("c", true), parquet.WithDataPageSize(pageSize),
			parquet.WithBatchSize(batch), parquet.WithDictionaryPageSizeLimit(limit), parquet.WithMaxRowGroupLength(int64(in[0])+1))
		flat := writeFlat(t, batches, sc, props, true)
		checkRoundTrip(t, flat, sc, batches)
		compareFile(t, flat, []int{1, 7, 1 << 20}, false)
	})
}
