package flatparquet

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// nulls says which rows of generated columns are null.
type nulls int

const (
	noNulls nulls = iota
	someNulls
	allNulls
)

func (n nulls) String() string { return [...]string{"nonulls", "somenulls", "allnulls"}[n] }

// testTypes are the supported types, time zones included.
var testTypes = []arrow.DataType{
	arrow.PrimitiveTypes.Int8, arrow.PrimitiveTypes.Uint8, arrow.PrimitiveTypes.Int16, arrow.PrimitiveTypes.Uint16,
	arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Uint32, arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Uint64,
	arrow.PrimitiveTypes.Float32, arrow.PrimitiveTypes.Float64, arrow.FixedWidthTypes.Boolean,
	arrow.BinaryTypes.String, arrow.BinaryTypes.LargeString, arrow.BinaryTypes.Binary, arrow.BinaryTypes.LargeBinary,
	arrow.FixedWidthTypes.Date32,
	&arrow.TimestampType{Unit: arrow.Millisecond}, &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"},
	&arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "Europe/Berlin"},
	arrow.FixedWidthTypes.Time32ms, arrow.FixedWidthTypes.Time64us, arrow.FixedWidthTypes.Time64ns,
}

// genArray builds n values of type dt, deterministic for seed. Integers
// reach their type's extremes; floats hold zeros of both signs and
// infinities, no NaN (array.Equal does not take NaN as equal to itself);
// strings are empty, ASCII or not.
func genArray(mem memory.Allocator, dt arrow.DataType, n int, nl nulls, seed uint64) arrow.Array {
	r := rand.New(rand.NewPCG(seed, uint64(dt.ID())))
	b := array.NewBuilder(mem, dt)
	defer b.Release()
	for i := range n {
		if nl == allNulls || (nl == someNulls && r.IntN(4) == 0) {
			b.AppendNull()
			continue
		}
		appendValue(b, r, i)
	}
	return b.NewArray()
}

func appendValue(b array.Builder, r *rand.Rand, i int) {
	// a run of neighbours, then jumps: deltas small, large and wrapping
	base := int64(i)
	if r.IntN(8) == 0 {
		base = r.Int64()
	}
	switch b := b.(type) {
	case *array.Int8Builder:
		b.Append(int8(pick(r, base, math.MinInt8, math.MaxInt8)))
	case *array.Uint8Builder:
		b.Append(uint8(pick(r, base, 0, math.MaxUint8)))
	case *array.Int16Builder:
		b.Append(int16(pick(r, base, math.MinInt16, math.MaxInt16)))
	case *array.Uint16Builder:
		b.Append(uint16(pick(r, base, 0, math.MaxUint16)))
	case *array.Int32Builder:
		b.Append(int32(pick(r, base, math.MinInt32, math.MaxInt32)))
	case *array.Uint32Builder:
		b.Append(uint32(pick(r, base, 0, math.MaxUint32)))
	case *array.Int64Builder:
		b.Append(pick(r, base, math.MinInt64, math.MaxInt64))
	case *array.Uint64Builder:
		b.Append(uint64(pick(r, base, 0, -1)))
	case *array.Date32Builder:
		b.Append(arrow.Date32(pick(r, base, -1e6, 1e6)))
	case *array.TimestampBuilder:
		b.Append(arrow.Timestamp(pick(r, base, math.MinInt64, math.MaxInt64)))
	case *array.Time32Builder:
		b.Append(arrow.Time32(r.IntN(86400000)))
	case *array.Time64Builder:
		b.Append(arrow.Time64(r.Int64N(86400000000000)))
	case *array.Float32Builder:
		b.Append(float32(pickFloat(r)))
	case *array.Float64Builder:
		b.Append(pickFloat(r))
	case *array.BooleanBuilder:
		b.Append(r.IntN(3) == 0)
	case *array.StringBuilder:
		b.Append(pickString(r))
	case *array.LargeStringBuilder:
		b.Append(pickString(r))
	case *array.BinaryBuilder:
		b.Append(pickBytes(r))
	default:
		panic(fmt.Sprintf("no values for %T", b))
	}
}

// pick is usually base, sometimes one of the extremes lo and hi.
func pick(r *rand.Rand, base, lo, hi int64) int64 {
	switch r.IntN(16) {
	case 0:
		return lo
	case 1:
		return hi
	}
	return base
}

func pickFloat(r *rand.Rand) float64 {
	switch r.IntN(16) {
	case 0:
		return 0
	case 1:
		return math.Copysign(0, -1)
	case 2:
		return math.Inf(1 - 2*r.IntN(2))
	}
	return r.NormFloat64() * 1000
}

var testStrings = []string{"", "a", "Zürich", "São Paulo", "東京", "\u00ff\u0100", "customer-0000042", "zz"}

func pickString(r *rand.Rand) string {
	if r.IntN(2) == 0 {
		return testStrings[r.IntN(len(testStrings))]
	}
	return fmt.Sprintf("value %d", r.IntN(100000))
}

func pickBytes(r *rand.Rand) []byte {
	b := make([]byte, r.IntN(12))
	for i := range b {
		b[i] = byte(r.IntN(256)) // bytes above 0x7f test the unsigned order
	}
	return b
}
