package flatparquet

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// oneColumn is a batch of one column c.
func oneColumn(arr arrow.Array, nullable bool) (*arrow.Schema, arrow.RecordBatch) {
	sc := arrow.NewSchema([]arrow.Field{{Name: "c", Type: arr.DataType(), Nullable: nullable}}, nil)
	return sc, array.NewRecordBatch(sc, []arrow.Array{arr}, int64(arr.Len()))
}

// chunkStats is the statistics of column 0 in row group 0 of data.
func chunkMinMax(t *testing.T, data []byte) (mn, mx []byte, ok bool) {
	t.Helper()
	cc, err := readMeta(t, data).RowGroup(0).ColumnChunk(0)
	if err != nil {
		t.Fatal(err)
	}
	st, err := cc.Statistics()
	if err != nil || st == nil {
		t.Fatalf("statistics %v: %v", st, err)
	}
	return st.EncodeMin(), st.EncodeMax(), st.HasMinMax()
}

// readBits reads back column 0 of data as float64 bits (float32 widened).
func readFloats(t *testing.T, data []byte) []float64 {
	t.Helper()
	tbl, err := pqarrow.ReadTable(context.Background(), bytes.NewReader(data), parquet.NewReaderProperties(memory.DefaultAllocator), pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	var out []float64
	for _, c := range tbl.Column(0).Data().Chunks() {
		switch c := c.(type) {
		case *array.Float64:
			out = append(out, c.Float64Values()...)
		case *array.Float32:
			for _, v := range c.Float32Values() {
				out = append(out, float64(v))
			}
		}
	}
	return out
}

// TestFloatStatistics checks NaN and signed zeros: NaN is never a min or
// max (a page of NaN only has none), a zero min is written -0.0 and a zero
// max +0.0; the values themselves come back bit for bit.
func TestFloatStatistics(t *testing.T) {
	nan, neg0 := math.NaN(), math.Copysign(0, -1)
	cases := []struct {
		name     string
		values   []float64
		min, max float64
		none     bool
	}{
		{name: "nan only", values: []float64{nan, nan}, none: true},
		{name: "nan and values", values: []float64{nan, 3, -2, nan, 7}, min: -2, max: 7},
		{name: "positive zero", values: []float64{0, 0}, min: neg0, max: 0},
		{name: "negative zero", values: []float64{neg0}, min: neg0, max: 0},
		{name: "zeros and positives", values: []float64{1, 0, neg0, 5}, min: neg0, max: 5},
		{name: "zeros and negatives", values: []float64{-1, neg0, 0}, min: -1, max: 0},
		{name: "infinities", values: []float64{math.Inf(1), nan, math.Inf(-1)}, min: math.Inf(-1), max: math.Inf(1)},
		{name: "positive infinity only", values: []float64{math.Inf(1)}, min: math.Inf(1), max: math.Inf(1)},
	}
	for _, tc := range cases {
		for _, double := range []bool{true, false} {
			for _, enc := range []parquet.Encoding{parquet.Encodings.Plain, parquet.Encodings.ByteStreamSplit} {
				t.Run(tc.name+map[bool]string{true: "/double", false: "/float"}[double]+"/"+enc.String(), func(t *testing.T) {
					var arr arrow.Array
					if double {
						b := array.NewFloat64Builder(memory.DefaultAllocator)
						b.AppendValues(tc.values, nil)
						b.AppendNull()
						arr = b.NewArray()
						b.Release()
					} else {
						b := array.NewFloat32Builder(memory.DefaultAllocator)
						for _, v := range tc.values {
							b.Append(float32(v))
						}
						b.AppendNull()
						arr = b.NewArray()
						b.Release()
					}
					defer arr.Release()
					sc, rec := oneColumn(arr, true)
					defer rec.Release()
					props := testProps(memory.DefaultAllocator, parquet.WithEncodingFor("c", enc))
					flat := writeFlat(t, []arrow.RecordBatch{rec}, sc, props, true)
					compareFiles(t, flat, writePqarrow(t, []arrow.RecordBatch{rec}, sc, props, true))

					mn, mx, ok := chunkMinMax(t, flat)
					if ok == tc.none {
						t.Fatalf("min/max set: %v", ok)
					}
					if ok && (!sameBits(decodeFloat(mn), tc.min) || !sameBits(decodeFloat(mx), tc.max)) {
						t.Errorf("min %v max %v, want %v %v", decodeFloat(mn), decodeFloat(mx), tc.min, tc.max)
					}
					got := readFloats(t, flat)
					for i, v := range tc.values {
						if !sameBits(got[i], v) {
							t.Errorf("value %d read back %v, written %v", i, got[i], v)
						}
					}
				})
			}
		}
	}
}

func decodeFloat(b []byte) float64 {
	if len(b) == 4 {
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(b))
}

// sameBits compares as the file stores: NaN equal to NaN, -0.0 not +0.0.
func sameBits(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return a == b && math.Signbit(a) == math.Signbit(b)
}

// TestByteArrayStatistics checks the unsigned bytewise order of strings
// and binaries, empty values and non-ASCII ones.
func TestByteArrayStatistics(t *testing.T) {
	cases := []struct {
		name     string
		values   []string
		min, max string
	}{
		{name: "empty is least", values: []string{"b", "", "a"}, min: "", max: "b"},
		{name: "non-ascii is greatest", values: []string{"zz", "Zürich", "東京", "a"}, min: "Zürich", max: "東京"},
		{name: "prefix", values: []string{"ab", "abc", "a"}, min: "a", max: "abc"},
		{name: "high bytes", values: []string{"\x7f", "\x80", "\xff", "\x00"}, min: "\x00", max: "\xff"},
	}
	for _, tc := range cases {
		for _, dt := range []arrow.DataType{arrow.BinaryTypes.String, arrow.BinaryTypes.LargeString, arrow.BinaryTypes.Binary, arrow.BinaryTypes.LargeBinary} {
			t.Run(tc.name+"/"+dt.String(), func(t *testing.T) {
				b := array.NewBuilder(memory.DefaultAllocator, dt)
				for _, v := range tc.values {
					switch b := b.(type) {
					case *array.StringBuilder:
						b.Append(v)
					case *array.LargeStringBuilder:
						b.Append(v)
					case *array.BinaryBuilder:
						b.Append([]byte(v))
					}
				}
				b.AppendNull()
				arr := b.NewArray()
				b.Release()
				defer arr.Release()
				sc, rec := oneColumn(arr, true)
				defer rec.Release()
				props := testProps(memory.DefaultAllocator)
				flat := writeFlat(t, []arrow.RecordBatch{rec}, sc, props, true)
				checkRoundTrip(t, flat, sc, []arrow.RecordBatch{rec})
				compareFiles(t, flat, writePqarrow(t, []arrow.RecordBatch{rec}, sc, props, true))
				mn, mx, ok := chunkMinMax(t, flat)
				if !ok || string(mn) != tc.min || string(mx) != tc.max {
					t.Errorf("min %q max %q (%v), want %q %q", mn, mx, ok, tc.min, tc.max)
				}
			})
		}
	}
}

// TestAllEmptyStrings writes a column whose values are all empty: its min
// and max are both the empty string, not missing.
func TestAllEmptyStrings(t *testing.T) {
	b := array.NewStringBuilder(memory.DefaultAllocator)
	b.AppendValues([]string{"", "", ""}, nil)
	arr := b.NewArray()
	b.Release()
	defer arr.Release()
	sc, rec := oneColumn(arr, false)
	defer rec.Release()
	flat := writeFlat(t, []arrow.RecordBatch{rec}, sc, testProps(memory.DefaultAllocator), true)
	checkRoundTrip(t, flat, sc, []arrow.RecordBatch{rec})
	mn, mx, ok := chunkMinMax(t, flat)
	if !ok || len(mn) != 0 || len(mx) != 0 {
		t.Errorf("min %q max %q (%v), want empty ones", mn, mx, ok)
	}
	compareFiles(t, flat, writePqarrow(t, []arrow.RecordBatch{rec}, sc, testProps(memory.DefaultAllocator), true))
}

// TestIntegerStatistics checks extremes and the unsigned order of unsigned
// columns (a uint32 above 2^31 is stored as a negative INT32).
func TestIntegerStatistics(t *testing.T) {
	mem := memory.DefaultAllocator
	arrs := []arrow.Array{}
	i64 := array.NewInt64Builder(mem)
	i64.AppendValues([]int64{0, math.MaxInt64, math.MinInt64, -1}, nil)
	u32 := array.NewUint32Builder(mem)
	u32.AppendValues([]uint32{1, math.MaxUint32, 1 << 31, 0}, nil)
	u64 := array.NewUint64Builder(mem)
	u64.AppendValues([]uint64{1, math.MaxUint64, 1 << 63, 5}, nil)
	i8 := array.NewInt8Builder(mem)
	i8.AppendValues([]int8{math.MinInt8, 0, math.MaxInt8, -1}, nil)
	for _, b := range []array.Builder{i64, u32, u64, i8} {
		arrs = append(arrs, b.NewArray())
		b.Release()
	}
	want := [][2]uint64{
		{1 << 63, math.MaxInt64},
		{0, math.MaxUint32},
		{1, math.MaxUint64},
		{uint64(math.MaxUint32 &^ 0x7f), math.MaxInt8}, // -128 as INT32
	}
	for i, arr := range arrs {
		for _, enc := range []parquet.Encoding{parquet.Encodings.Plain, parquet.Encodings.DeltaBinaryPacked} {
			t.Run(arr.DataType().String()+"/"+enc.String(), func(t *testing.T) {
				sc, rec := oneColumn(arr, false)
				defer rec.Release()
				props := testProps(mem, parquet.WithEncodingFor("c", enc))
				flat := writeFlat(t, []arrow.RecordBatch{rec}, sc, props, true)
				checkRoundTrip(t, flat, sc, []arrow.RecordBatch{rec})
				compareFiles(t, flat, writePqarrow(t, []arrow.RecordBatch{rec}, sc, props, true))
				mn, mx, _ := chunkMinMax(t, flat)
				if decodeInt(mn) != want[i][0] || decodeInt(mx) != want[i][1] {
					t.Errorf("min %x max %x, want %x %x", decodeInt(mn), decodeInt(mx), want[i][0], want[i][1])
				}
			})
		}
		arr.Release()
	}
}

func decodeInt(b []byte) uint64 {
	if len(b) == 4 {
		return uint64(binary.LittleEndian.Uint32(b))
	}
	return binary.LittleEndian.Uint64(b)
}

// TestFieldIDs checks that field ids and time zones are kept.
func TestFieldIDs(t *testing.T) {
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64, Metadata: arrow.NewMetadata([]string{"PARQUET:field_id"}, []string{"7"})},
		{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "America/New_York"}, Nullable: true,
			Metadata: arrow.NewMetadata([]string{"PARQUET:field_id"}, []string{"9"})},
	}, nil)
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	batches := makeBatches(mem, sc, layouts[0], noNulls)
	defer release(batches)
	flat := writeFlat(t, batches, sc, testProps(mem), true)
	checkRoundTrip(t, flat, sc, batches)
	md := readMeta(t, flat)
	for i, id := range []int32{7, 9} {
		if got := md.Schema.Column(i).SchemaNode().FieldID(); got != id {
			t.Errorf("column %d: field id %d, want %d", i, got, id)
		}
	}
	compareFiles(t, flat, writePqarrow(t, batches, sc, testProps(memory.DefaultAllocator), true))
}
