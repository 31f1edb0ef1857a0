package partstats

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"math"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// maxFixedBound is the longest fixed-length value given as a bound: Iceberg
// does not truncate fixed, and longer ones would swell every manifest.
const maxFixedBound = 64

// boundKind turns one Parquet column type's plain-encoded statistics into
// Iceberg bounds: it checks and orders them in the logical type's order
// and serializes the merged ones as Iceberg's single-value binary form.
type boundKind struct {
	width int               // plain-encoded width; 0 for variable
	ok    func([]byte) bool // nil: any value of the right width
	cmp   func(a, b []byte) int
	// lower and upper give the Iceberg bound for a min or max, nil when
	// none can be given.
	lower, upper func([]byte) []byte
}

func (k *boundKind) valid(b []byte) bool {
	if k.width > 0 && len(b) != k.width {
		return false
	}
	return k.ok == nil || k.ok(b)
}

// kindFor picks the bound kind for a leaf column, nil when its bounds are
// not given: leaves in lists and maps (their counts are of repeated
// values), columns without a type-defined order, and types whose Iceberg
// form is ambiguous or needs a conversion (unsigned ints, INT96, time and
// timestamp units other than micros, UUID, float16, JSON, BSON, enum).
func kindFor(c *schema.Column) *boundKind {
	if c.MaxRepetitionLevel() > 0 {
		return nil
	}
	if o := c.ColumnOrder(); o == nil || o.TYPE_ORDER == nil {
		return nil
	}
	lt := c.LogicalType()
	switch c.PhysicalType() {
	case parquet.Types.Boolean:
		if plain(c) {
			return boolKind()
		}
	case parquet.Types.Int32:
		switch t := lt.(type) {
		case schema.IntLogicalType:
			if t.IsSigned() {
				return int32Kind()
			}
		case schema.DateLogicalType:
			return int32Kind()
		case schema.DecimalLogicalType:
			return decimalKind(t, decimalInt32Kind)
		default:
			if plain(c) {
				return int32Kind()
			}
		}
	case parquet.Types.Int64:
		switch t := lt.(type) {
		case schema.IntLogicalType:
			if t.IsSigned() {
				return int64Kind()
			}
		case schema.TimestampLogicalType:
			if t.TimeUnit() == schema.TimeUnitMicros {
				return int64Kind()
			}
		case schema.TimeLogicalType:
			if t.TimeUnit() == schema.TimeUnitMicros {
				return int64Kind()
			}
		case schema.DecimalLogicalType:
			return decimalKind(t, decimalInt64Kind)
		default:
			if plain(c) {
				return int64Kind()
			}
		}
	case parquet.Types.Float:
		if plain(c) {
			return float32Kind()
		}
	case parquet.Types.Double:
		if plain(c) {
			return float64Kind()
		}
	case parquet.Types.ByteArray:
		switch t := lt.(type) {
		case schema.StringLogicalType:
			return stringKind()
		case schema.DecimalLogicalType:
			return decimalKind(t, decimalBytesKind)
		default:
			if plain(c) {
				return binaryKind()
			}
		}
	case parquet.Types.FixedLenByteArray:
		switch t := lt.(type) {
		case schema.DecimalLogicalType:
			return decimalKind(t, decimalBytesKind)
		default:
			if plain(c) && c.TypeLength() <= maxFixedBound {
				return fixedKind(c.TypeLength())
			}
		}
	}
	return nil
}

// maxDecimalPrecision is the widest decimal Iceberg has.
const maxDecimalPrecision = 38

// decimalKind is k for a decimal Iceberg can hold, nil for a wider one.
func decimalKind(t schema.DecimalLogicalType, k func() *boundKind) *boundKind {
	if t.Precision() > maxDecimalPrecision {
		return nil
	}
	return k()
}

// plain reports a column without a logical type, nor a legacy converted
// one that arrow-go did not turn into a logical type.
func plain(c *schema.Column) bool {
	switch c.LogicalType().(type) {
	case nil, schema.NoLogicalType:
	default:
		return false
	}
	switch c.ConvertedType() {
	case schema.ConvertedTypes.None, schema.ConvertedTypes.NA:
		return true
	}
	return false
}

func boolKind() *boundKind {
	return &boundKind{
		width: 1,
		ok:    func(b []byte) bool { return b[0] <= 1 },
		cmp:   func(a, b []byte) int { return cmp.Compare(a[0], b[0]) },
		lower: bytes.Clone,
		upper: bytes.Clone,
	}
}

func int32Kind() *boundKind {
	return &boundKind{
		width: 4,
		cmp:   cmpLE32,
		lower: bytes.Clone,
		upper: bytes.Clone,
	}
}

func int64Kind() *boundKind {
	return &boundKind{
		width: 8,
		cmp:   cmpLE64,
		lower: bytes.Clone,
		upper: bytes.Clone,
	}
}

// Floats: a NaN bound says nothing of the other values, and zero's
// sign is not ordered, so the lower bound of a zero is -0 and the
// upper +0 whichever the writer chose.
func float32Kind() *boundKind {
	return &boundKind{
		width: 4,
		ok:    func(b []byte) bool { return !math.IsNaN(float64(f32(b))) },
		cmp:   func(a, b []byte) int { return cmp.Compare(f32(a), f32(b)) },
		lower: func(b []byte) []byte {
			if f32(b) == 0 {
				return binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(math.Copysign(0, -1))))
			}
			return bytes.Clone(b)
		},
		upper: func(b []byte) []byte {
			if f32(b) == 0 {
				return binary.LittleEndian.AppendUint32(nil, 0)
			}
			return bytes.Clone(b)
		},
	}
}

func float64Kind() *boundKind {
	return &boundKind{
		width: 8,
		ok:    func(b []byte) bool { return !math.IsNaN(f64(b)) },
		cmp:   func(a, b []byte) int { return cmp.Compare(f64(a), f64(b)) },
		lower: func(b []byte) []byte {
			if f64(b) == 0 {
				return binary.LittleEndian.AppendUint64(nil, math.Float64bits(math.Copysign(0, -1)))
			}
			return bytes.Clone(b)
		},
		upper: func(b []byte) []byte {
			if f64(b) == 0 {
				return binary.LittleEndian.AppendUint64(nil, 0)
			}
			return bytes.Clone(b)
		},
	}
}

// Strings and binary order bytewise unsigned, which for UTF-8 is code
// point order; long values are truncated as Iceberg's default
// metrics mode does.
func stringKind() *boundKind {
	return &boundKind{
		ok:    validUTF8,
		cmp:   bytes.Compare,
		lower: truncateStringLower,
		upper: truncateStringUpper,
	}
}

func binaryKind() *boundKind {
	return &boundKind{
		cmp:   bytes.Compare,
		lower: truncateBinaryLower,
		upper: truncateBinaryUpper,
	}
}

func fixedKind(width int) *boundKind {
	return &boundKind{
		width: width,
		cmp:   bytes.Compare,
		lower: bytes.Clone,
		upper: bytes.Clone,
	}
}

// Decimals: Iceberg wants the unscaled value as two's-complement
// big-endian in the fewest bytes.
func decimalInt32Kind() *boundKind {
	return &boundKind{
		width: 4,
		cmp:   cmpLE32,
		lower: func(b []byte) []byte { return minimalTwos(int64(le32(b))) },
		upper: func(b []byte) []byte { return minimalTwos(int64(le32(b))) },
	}
}

func decimalInt64Kind() *boundKind {
	return &boundKind{
		width: 8,
		cmp:   cmpLE64,
		lower: func(b []byte) []byte { return minimalTwos(le64(b)) },
		upper: func(b []byte) []byte { return minimalTwos(le64(b)) },
	}
}

func decimalBytesKind() *boundKind {
	return &boundKind{
		ok:    func(b []byte) bool { return len(b) > 0 },
		cmp:   compareTwos,
		lower: trimTwos,
		upper: trimTwos,
	}
}

func cmpLE32(a, b []byte) int { return cmp.Compare(le32(a), le32(b)) }
func cmpLE64(a, b []byte) int { return cmp.Compare(le64(a), le64(b)) }

func le32(b []byte) int32  { return int32(binary.LittleEndian.Uint32(b)) }
func le64(b []byte) int64  { return int64(binary.LittleEndian.Uint64(b)) }
func f32(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b)) }
func f64(b []byte) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(b)) }

// minimalTwos is v as two's-complement big-endian in the fewest bytes.
func minimalTwos(v int64) []byte {
	return trimTwos(binary.BigEndian.AppendUint64(nil, uint64(v)))
}

// trimTwos drops the leading bytes of a two's-complement big-endian value
// that only repeat its sign, returning a copy.
func trimTwos(b []byte) []byte {
	for len(b) > 1 && (b[0] == 0x00 && b[1]&0x80 == 0 || b[0] == 0xff && b[1]&0x80 != 0) {
		b = b[1:]
	}
	return bytes.Clone(b)
}

// compareTwos orders two's-complement big-endian values of any lengths.
func compareTwos(a, b []byte) int {
	na, nb := a[0]&0x80 != 0, b[0]&0x80 != 0
	if na != nb {
		if na {
			return -1
		}
		return 1
	}
	// Same sign: sign-extend the shorter, then compare unsigned.
	ext := byte(0)
	if na {
		ext = 0xff
	}
	for len(a) < len(b) {
		if c := cmp.Compare(ext, b[0]); c != 0 {
			return c
		}
		b = b[1:]
	}
	for len(b) < len(a) {
		if c := cmp.Compare(a[0], ext); c != 0 {
			return c
		}
		a = a[1:]
	}
	return bytes.Compare(a, b)
}
