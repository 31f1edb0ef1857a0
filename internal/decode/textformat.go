package decode

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
)

// FormatMetaKey is the Arrow field metadata key of a date or timestamp
// column's strftime-style format (see timeLayout): each text value of the
// column is parsed with it, and one that does not match is an error.
const FormatMetaKey = "s3load.format"

// CheckTimeFormat says whether format is one a date or timestamp column
// can carry under FormatMetaKey, so a config can be refused when loaded.
func CheckTimeFormat(format string) error {
	_, err := compileLayout(format)
	return err
}

// textOptions are the CSV settings that change how values are written.
type textOptions struct {
	decimal byte           // the decimal separator: '.' or ','
	loc     *time.Location // the zone of timestamps without an offset; nil: UTC
}

// textStyle is how one column's values are written when that is not the
// default; a column without one (nil) takes the default parsers, so the
// default costs nothing.
type textStyle struct {
	comma  bool           // ',' separates the decimals
	loc    *time.Location // see textOptions
	layout *timeLayout    // the column's format
	err    error          // the format does not compile or apply to the column
	buf    []byte         // a number with its ',' made a '.'
}

var errDotWithComma = errors.New("'.' in a number whose decimal separator is ','")

// styleFor returns f's style under o, or nil when f reads as default.
func styleFor(f arrow.Field, o textOptions) *textStyle {
	var comma bool
	var loc *time.Location
	switch f.Type.ID() {
	case arrow.FLOAT32, arrow.FLOAT64, arrow.DECIMAL128, arrow.DECIMAL256:
		comma = o.decimal == ','
	case arrow.TIMESTAMP:
		loc = o.loc
	}
	format, formatted := f.Metadata.GetValue(FormatMetaKey)
	if !comma && loc == nil && !formatted {
		return nil // most columns: allocate nothing
	}
	st := &textStyle{comma: comma, loc: loc}
	if formatted {
		switch f.Type.ID() {
		case arrow.DATE32, arrow.DATE64, arrow.TIMESTAMP:
			st.layout, st.err = compileLayout(format)
		default:
			st.err = fmt.Errorf("a format (%q) applies to date and timestamp columns, not %s", format, f.Type)
		}
	}
	return st
}

// fail is the error for value b of type dt.
func (st *textStyle) fail(b []byte, dt arrow.DataType, err error) error {
	if st.layout != nil {
		return fmt.Errorf("parsing %q as %s with format %q: %w", clip(b), dt, st.layout.format, err)
	}
	return fmt.Errorf("parsing %q as %s: %w", clip(b), dt, err)
}

// number returns b with its decimal separator a '.', for strconv and the
// decimal parsers. As with DuckDB's decimal_separator, a '.' in a number
// whose separator is ',' makes it no number: it is neither the separator
// nor read as a thousands separator (10.000,5 is refused, not 10000.5).
func (st *textStyle) number(b []byte) ([]byte, error) {
	if !st.comma {
		return b, nil
	}
	if bytes.IndexByte(b, '.') >= 0 {
		return nil, errDotWithComma
	}
	i := bytes.IndexByte(b, ',')
	if i < 0 {
		return b, nil
	}
	st.buf = append(st.buf[:0], b...)
	st.buf[i] = '.'
	return st.buf, nil
}

func (st *textStyle) float(b []byte, bits int) (float64, error) {
	v, err := st.number(b)
	if err != nil {
		return 0, err
	}
	return parseFloat(v, bits)
}

// date parses a date, with the column's format if it has one (its time
// of day, if any, is dropped).
func (st *textStyle) date(b []byte) (int32, error) {
	if st.layout == nil {
		return parseDate(b)
	}
	sec, _, _, err := st.layout.parse(b)
	if err != nil {
		return 0, err
	}
	days := sec / 86400
	if sec%86400 < 0 {
		days--
	}
	if days != int64(int32(days)) {
		return 0, errRange
	}
	return int32(days), nil
}

// timestamp parses a timestamp, with the column's format if it has one,
// and reads a value without an offset in the column's zone. A bare date,
// without a format, is midnight.
func (st *textStyle) timestamp(b []byte, unit int) (int64, error) {
	var sec, nsec int64
	var zoned bool
	var err error
	if st.layout != nil {
		sec, nsec, zoned, err = st.layout.parse(b)
	} else if sec, nsec, zoned, err = parseTimestampZoned(b); err != nil {
		days, derr := parseDate(b)
		if derr != nil {
			return 0, err
		}
		sec, nsec, zoned, err = int64(days)*86400, 0, false, nil
	}
	if err != nil {
		return 0, err
	}
	if !zoned && st.loc != nil {
		sec = localToUTC(sec, st.loc)
	}
	return timestampIn(sec, nsec, unit)
}

// localToUTC takes wall-clock seconds w (as if UTC) as the time in loc
// and returns the instant's seconds since the epoch. It is Go's time.Date,
// whose docs do not promise which offset a DST change's wall times take;
// today (and pinned by TestCSVTimezone) a time skipped by a spring-forward
// (02:30) is read with the offset before the change, landing at 03:30
// summer time, and one that occurs twice in a fall-back (02:30) is read
// as the second, standard-time, one.
func localToUTC(w int64, loc *time.Location) int64 {
	days := w / 86400
	rem := w % 86400
	if rem < 0 {
		days, rem = days-1, rem+86400
	}
	return time.Date(1970, time.January, 1+int(days), 0, 0, int(rem), 0, loc).Unix()
}

// putStyled parses one non-null field into row n of a raw column that has
// a style: the general path, which the fast path also calls for it.
func (c *column) putStyled(n int, f []byte) error {
	st, dt := c.style, c.field.Type
	if st.err != nil {
		return st.fail(f, dt, st.err)
	}
	v := trimSpace(f)
	switch c.kind {
	case colFloat64:
		x, err := st.float(v, 64)
		if err != nil {
			return st.fail(f, dt, err)
		}
		c.f64[n] = x
	case colDate32:
		d, err := st.date(v)
		if err != nil {
			return st.fail(f, dt, err)
		}
		c.i32[n] = d
	case colTimestamp:
		ts, err := st.timestamp(v, c.unit)
		if err != nil {
			return st.fail(f, dt, err)
		}
		c.i64[n] = ts
	default:
		return fmt.Errorf("no styled parser for %s", dt) // styleFor gives none
	}
	c.setValid(n)
	return nil
}

// appender is newTextAppender for a builder column with a style.
func (st *textStyle) appender(bld array.Builder, dt arrow.DataType) textAppender {
	if st.err != nil {
		return func(b []byte) error { return st.fail(b, dt, st.err) }
	}
	parse := func(b []byte, put func([]byte) error) error {
		if err := put(trimSpace(b)); err != nil {
			return st.fail(b, dt, err)
		}
		return nil
	}
	switch bb := bld.(type) {
	case *array.Float32Builder:
		return func(b []byte) error {
			return parse(b, func(v []byte) error {
				x, err := st.float(v, 32)
				if err == nil {
					bb.Append(float32(x))
				}
				return err
			})
		}
	case *array.Float64Builder:
		return func(b []byte) error {
			return parse(b, func(v []byte) error {
				x, err := st.float(v, 64)
				if err == nil {
					bb.Append(x)
				}
				return err
			})
		}
	case *array.Decimal128Builder:
		t := dt.(*arrow.Decimal128Type)
		return func(b []byte) error {
			return parse(b, func(v []byte) error {
				s, err := st.number(v)
				if err != nil {
					return err
				}
				x, err := decimal128.FromString(string(s), t.Precision, t.Scale)
				if err == nil && !x.FitsInPrecision(t.Precision) {
					err = errRange
				}
				if err == nil {
					bb.Append(x)
				}
				return err
			})
		}
	case *array.Decimal256Builder:
		t := dt.(*arrow.Decimal256Type)
		return func(b []byte) error {
			return parse(b, func(v []byte) error {
				s, err := st.number(v)
				if err != nil {
					return err
				}
				x, err := decimal256.FromString(string(s), t.Precision, t.Scale)
				if err == nil && !x.FitsInPrecision(t.Precision) {
					err = errRange
				}
				if err == nil {
					bb.Append(x)
				}
				return err
			})
		}
	case *array.Date32Builder:
		return func(b []byte) error {
			return parse(b, func(v []byte) error {
				d, err := st.date(v)
				if err == nil {
					bb.Append(arrow.Date32(d))
				}
				return err
			})
		}
	case *array.Date64Builder:
		return func(b []byte) error {
			return parse(b, func(v []byte) error {
				d, err := st.date(v)
				if err == nil {
					bb.Append(arrow.Date64(int64(d) * 86_400_000))
				}
				return err
			})
		}
	case *array.TimestampBuilder:
		unit := int(dt.(*arrow.TimestampType).Unit)
		return func(b []byte) error {
			return parse(b, func(v []byte) error {
				ts, err := st.timestamp(v, unit)
				if err == nil {
					bb.Append(arrow.Timestamp(ts))
				}
				return err
			})
		}
	}
	return newTextAppender(bld, dt)
}
