package decode

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
)

var errUTF8 = errors.New("invalid UTF-8")

// textAppender parses one text value into a column's builder. Errors name
// the value and the type; the caller adds file, line and column.
type textAppender func(b []byte) error

// isTextType reports whether newTextAppender handles dt.
func isTextType(dt arrow.DataType) bool {
	switch dt.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64,
		arrow.FLOAT32, arrow.FLOAT64, arrow.BOOL,
		arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW,
		arrow.BINARY, arrow.LARGE_BINARY, arrow.BINARY_VIEW,
		arrow.DATE32, arrow.DATE64, arrow.TIMESTAMP,
		arrow.DECIMAL128, arrow.DECIMAL256, arrow.NULL:
		return true
	}
	return false
}

// newTextAppender returns the parser for a builder of type dt; it panics
// on a type isTextType refuses, so callers check first.
func newTextAppender(bld array.Builder, dt arrow.DataType) textAppender {
	fail := func(b []byte, err error) error {
		return fmt.Errorf("parsing %q as %s: %w", clip(b), dt, err)
	}
	switch dt.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64:
		bits := dt.(arrow.FixedWidthDataType).BitWidth()
		put := intPutter(bld)
		return func(b []byte) error {
			v, err := parseInt(trimSpace(b), bits)
			if err != nil {
				return fail(b, err)
			}
			put(v)
			return nil
		}
	case arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
		bits := dt.(arrow.FixedWidthDataType).BitWidth()
		put := uintPutter(bld)
		return func(b []byte) error {
			v, err := parseUint(trimSpace(b), bits)
			if err != nil {
				return fail(b, err)
			}
			put(v)
			return nil
		}
	case arrow.FLOAT32:
		fb := bld.(*array.Float32Builder)
		return func(b []byte) error {
			v, err := parseFloat(trimSpace(b), 32)
			if err != nil {
				return fail(b, err)
			}
			fb.Append(float32(v))
			return nil
		}
	case arrow.FLOAT64:
		fb := bld.(*array.Float64Builder)
		return func(b []byte) error {
			v, err := parseFloat(trimSpace(b), 64)
			if err != nil {
				return fail(b, err)
			}
			fb.Append(v)
			return nil
		}
	case arrow.BOOL:
		bb := bld.(*array.BooleanBuilder)
		return func(b []byte) error {
			v, err := parseBool(trimSpace(b))
			if err != nil {
				return fail(b, err)
			}
			bb.Append(v)
			return nil
		}
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		put := bytesPutter(bld)
		return func(b []byte) error {
			if !utf8.Valid(b) {
				return errUTF8
			}
			put(b)
			return nil
		}
	case arrow.BINARY, arrow.LARGE_BINARY, arrow.BINARY_VIEW:
		put := bytesPutter(bld)
		return func(b []byte) error {
			put(b)
			return nil
		}
	case arrow.DATE32:
		db := bld.(*array.Date32Builder)
		return func(b []byte) error {
			v, err := parseDate(trimSpace(b))
			if err != nil {
				return fail(b, err)
			}
			db.Append(arrow.Date32(v))
			return nil
		}
	case arrow.DATE64:
		db := bld.(*array.Date64Builder)
		return func(b []byte) error {
			v, err := parseDate(trimSpace(b))
			if err != nil {
				return fail(b, err)
			}
			db.Append(arrow.Date64(int64(v) * 86_400_000))
			return nil
		}
	case arrow.TIMESTAMP:
		tb := bld.(*array.TimestampBuilder)
		unit := int(dt.(*arrow.TimestampType).Unit)
		return func(b []byte) error {
			v := trimSpace(b)
			sec, nsec, err := parseTimestamp(v)
			if err != nil {
				// A bare date is midnight.
				days, derr := parseDate(v)
				if derr != nil {
					return fail(b, err)
				}
				sec, nsec = int64(days)*86400, 0
			}
			ts, err := timestampIn(sec, nsec, unit)
			if err != nil {
				return fail(b, err)
			}
			tb.Append(arrow.Timestamp(ts))
			return nil
		}
	case arrow.DECIMAL128:
		t := dt.(*arrow.Decimal128Type)
		db := bld.(*array.Decimal128Builder)
		return func(b []byte) error {
			n, err := decimal128.FromString(string(trimSpace(b)), t.Precision, t.Scale)
			if err == nil && !n.FitsInPrecision(t.Precision) {
				err = errRange
			}
			if err != nil {
				return fail(b, err)
			}
			db.Append(n)
			return nil
		}
	case arrow.DECIMAL256:
		t := dt.(*arrow.Decimal256Type)
		db := bld.(*array.Decimal256Builder)
		return func(b []byte) error {
			n, err := decimal256.FromString(string(trimSpace(b)), t.Precision, t.Scale)
			if err == nil && !n.FitsInPrecision(t.Precision) {
				err = errRange
			}
			if err != nil {
				return fail(b, err)
			}
			db.Append(n)
			return nil
		}
	case arrow.NULL:
		return func(b []byte) error {
			return fail(b, errors.New("column holds only nulls"))
		}
	}
	panic(fmt.Sprintf("decode: no text appender for %s", dt))
}

func intPutter(bld array.Builder) func(int64) {
	switch b := bld.(type) {
	case *array.Int8Builder:
		return func(v int64) { b.Append(int8(v)) }
	case *array.Int16Builder:
		return func(v int64) { b.Append(int16(v)) }
	case *array.Int32Builder:
		return func(v int64) { b.Append(int32(v)) }
	}
	return bld.(*array.Int64Builder).Append
}

func uintPutter(bld array.Builder) func(uint64) {
	switch b := bld.(type) {
	case *array.Uint8Builder:
		return func(v uint64) { b.Append(uint8(v)) }
	case *array.Uint16Builder:
		return func(v uint64) { b.Append(uint16(v)) }
	case *array.Uint32Builder:
		return func(v uint64) { b.Append(uint32(v)) }
	}
	return bld.(*array.Uint64Builder).Append
}

func bytesPutter(bld array.Builder) func([]byte) {
	switch b := bld.(type) {
	case *array.StringBuilder:
		return b.BinaryBuilder.Append
	case *array.LargeStringBuilder:
		return b.BinaryBuilder.Append
	case *array.StringViewBuilder:
		return b.BinaryViewBuilder.Append
	case *array.BinaryViewBuilder:
		return b.Append
	}
	return bld.(*array.BinaryBuilder).Append
}

// clip shortens a value quoted in an error message.
func clip(b []byte) string {
	const max = 64
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}
