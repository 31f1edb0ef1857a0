package flatparquet

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
)

// deltaSequences are INT64 value sequences that stress the encoding:
// deltas that overflow (wrapping as the spec and arrow-go do), every bit
// width, constant runs, and lengths around the block and miniblock sizes.
func deltaSequences() map[string][]int64 {
	r := rand.New(rand.NewPCG(3, 4))
	seqs := map[string][]int64{}
	for _, n := range []int{1, 2, 31, 32, 33, 127, 128, 129, 255, 256, 257, 1000, 12345} {
		inc := make([]int64, n)
		rnd := make([]int64, n)
		ext := make([]int64, n)
		for i := range n {
			inc[i] = int64(i) * 1000003
			rnd[i] = r.Int64() - r.Int64()
			ext[i] = []int64{math.MinInt64, math.MaxInt64, 0, -1, math.MinInt64 + 1}[r.IntN(5)]
		}
		seqs[fmt.Sprintf("increasing/%d", n)] = inc
		seqs[fmt.Sprintf("random/%d", n)] = rnd
		seqs[fmt.Sprintf("extremes/%d", n)] = ext
	}
	constant := make([]int64, 300)
	for i := range constant {
		constant[i] = 42
	}
	seqs["constant"] = constant
	seqs["decreasing"] = []int64{math.MaxInt64, 1, 0, math.MinInt64}
	widths := make([]int64, 0, 64*32)
	for w := range 64 { // a miniblock of each bit width
		for i := range 32 {
			widths = append(widths, int64(i%2)<<w)
		}
	}
	seqs["widths"] = widths
	return seqs
}

// TestDeltaRoundTrip writes the sequences DELTA_BINARY_PACKED as INT64 and
// (truncated) INT32, required and with nulls, reads them back with
// arrow-go, and for required columns compares the file with pqarrow's byte
// for byte.
func TestDeltaRoundTrip(t *testing.T) {
	for name, seq := range deltaSequences() {
		for _, dt := range []arrow.DataType{arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Int32} {
			for _, withNulls := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/nulls=%v", name, dt, withNulls), func(t *testing.T) {
					mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
					defer mem.AssertSize(t, 0)
					arr := deltaArray(mem, dt, seq, withNulls)
					defer arr.Release()
					sc, rec := oneColumn(arr, withNulls)
					defer rec.Release()
					more := []parquet.WriterProperty{parquet.WithEncodingFor("c", parquet.Encodings.DeltaBinaryPacked),
						parquet.WithCompression(compress.Codecs.Uncompressed), parquet.WithDataPageSize(2048)}
					flat := writeFlat(t, []arrow.RecordBatch{rec}, sc, testProps(mem, more...), true)
					checkRoundTrip(t, flat, sc, []arrow.RecordBatch{rec})
					pq := writePqarrow(t, []arrow.RecordBatch{rec}, sc, testProps(memory.DefaultAllocator, more...), true)
					compareFiles(t, flat, pq)
					if !withNulls && !bytes.Equal(flat, pq) {
						t.Errorf("file differs from pqarrow's from byte %d", firstDiff(flat, pq))
					}
				})
			}
		}
	}
}

func deltaArray(mem memory.Allocator, dt arrow.DataType, seq []int64, withNulls bool) arrow.Array {
	b := array.NewBuilder(mem, dt)
	defer b.Release()
	for i, v := range seq {
		if withNulls && i%3 == 1 {
			b.AppendNull()
		}
		switch b := b.(type) {
		case *array.Int64Builder:
			b.Append(v)
		case *array.Int32Builder:
			b.Append(int32(v))
		}
	}
	return b.NewArray()
}

// TestPack32 checks the bit packing of each width against a bit by bit
// reference.
func TestPack32(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for w := 1; w <= 64; w++ {
		var v [deltaMini]uint64
		for i := range v {
			v[i] = r.Uint64() >> (64 - w)
		}
		got := pack32([]byte{0xAA}, &v, w)[1:]
		want := make([]byte, 4*w)
		for i, x := range v {
			for b := range w {
				if x>>b&1 == 1 {
					bit := i*w + b
					want[bit/8] |= 1 << (bit % 8)
				}
			}
		}
		if !bytes.Equal(got, want) {
			t.Errorf("width %d: %x, want %x", w, got, want)
		}
	}
}
