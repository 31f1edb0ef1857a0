package flatparquet

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// kind is how a column's Arrow values become Parquet values: which buffer
// layout is read and which physical type is written.
type kind uint8

const (
	kindInt8   kind = iota // widened to INT32
	kindUint8              // widened to INT32
	kindInt16              // widened to INT32
	kindUint16             // widened to INT32
	kindInt32              // 4-byte values written as they are: int32, uint32, date32, time32[ms]
	kindInt64              // 8-byte values written as they are: int64, uint64, timestamp, time64
	kindFloat32
	kindFloat64
	kindBool
	kindBinary      // 32-bit offsets: string, binary
	kindLargeBinary // 64-bit offsets: large_string, large_binary
)

// kindOf is the kind of a field of type dt, false if this package does not
// write it. Types pqarrow converts on the way (second timestamps and times
// become milliseconds, date64 becomes days) are left to pqarrow.
func kindOf(dt arrow.DataType) (kind, bool) {
	switch dt.ID() {
	case arrow.INT8:
		return kindInt8, true
	case arrow.UINT8:
		return kindUint8, true
	case arrow.INT16:
		return kindInt16, true
	case arrow.UINT16:
		return kindUint16, true
	case arrow.INT32, arrow.UINT32, arrow.DATE32:
		return kindInt32, true
	case arrow.TIME32:
		return kindInt32, dt.(*arrow.Time32Type).Unit == arrow.Millisecond
	case arrow.INT64, arrow.UINT64, arrow.TIME64:
		return kindInt64, true
	case arrow.TIMESTAMP:
		return kindInt64, dt.(*arrow.TimestampType).Unit != arrow.Second
	case arrow.FLOAT32:
		return kindFloat32, true
	case arrow.FLOAT64:
		return kindFloat64, true
	case arrow.BOOL:
		return kindBool, true
	case arrow.STRING, arrow.BINARY:
		return kindBinary, true
	case arrow.LARGE_STRING, arrow.LARGE_BINARY:
		return kindLargeBinary, true
	}
	return 0, false
}

// physical is the Parquet type k writes.
func (k kind) physical() parquet.Type {
	switch k {
	case kindInt8, kindUint8, kindInt16, kindUint16, kindInt32:
		return parquet.Types.Int32
	case kindInt64:
		return parquet.Types.Int64
	case kindFloat32:
		return parquet.Types.Float
	case kindFloat64:
		return parquet.Types.Double
	case kindBool:
		return parquet.Types.Boolean
	default:
		return parquet.Types.ByteArray
	}
}

// Supported reports whether schema is flat and of types this package
// writes: top-level fields, nullable or not, of Int8/16/32/64,
// Uint8/16/32/64, Float32/64, Boolean, String, LargeString, Binary,
// LargeBinary, Date32, Timestamp (not in seconds), Time32 in milliseconds
// and Time64. For any other schema use pqarrow.
func Supported(schema *arrow.Schema) bool {
	if schema == nil || schema.NumFields() == 0 {
		return false
	}
	for _, f := range schema.Fields() {
		if _, ok := kindOf(f.Type); !ok {
			return false
		}
	}
	return true
}

// sameUnit reports whether the Parquet column stores dt's values in dt's own
// unit. pqarrow stores nanosecond timestamps as microseconds in files of
// Parquet versions 1.0 and 2.4, a conversion this package leaves to it.
func sameUnit(dt arrow.DataType, col *schema.Column) bool {
	ts, ok := dt.(*arrow.TimestampType)
	if !ok {
		return true
	}
	lt, ok := col.LogicalType().(schema.TimestampLogicalType)
	if !ok {
		return false
	}
	switch ts.Unit {
	case arrow.Millisecond:
		return lt.TimeUnit() == schema.TimeUnitMillis
	case arrow.Microsecond:
		return lt.TimeUnit() == schema.TimeUnitMicros
	case arrow.Nanosecond:
		return lt.TimeUnit() == schema.TimeUnitNanos
	}
	return false
}
