package decode

import (
	"bytes"

	"github.com/apache/arrow-go/v18/arrow"
)

// Kinds of text value that inference tells apart; a column's kinds are
// the union over its sampled values.
const (
	kindInt uint8 = 1 << iota
	kindFloat
	kindBool
	kindDate
	kindTimestamp
	kindString
)

// timestampType is what inferred timestamps become: microseconds cover
// years 0001–9999, and a value without an offset is taken as UTC.
var timestampType = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}

// classify names the narrowest kind of one non-null CSV value with the
// text options: a decimal comma makes 30,5 a float and, as in DuckDB's
// decimal_separator, 30.5 a string (a '.' is then neither the separator
// nor a thousands one).
func (o textOptions) classify(b []byte) uint8 {
	if o.decimal != ',' {
		return classify(b)
	}
	v := trimSpace(b)
	if bytes.IndexByte(v, '.') >= 0 {
		return kindString
	}
	i := bytes.IndexByte(v, ',')
	if i < 0 {
		return classify(v)
	}
	if len(v) > 64 {
		return kindString // no number is this long
	}
	var buf [64]byte
	d := append(buf[:0], v...)
	d[i] = '.'
	if isInferFloat(d) {
		return kindFloat
	}
	return kindString
}

// classify names the narrowest kind of one non-null CSV value.
func classify(b []byte) uint8 {
	v := trimSpace(b)
	if len(v) == 0 {
		return kindString
	}
	c := v[0]
	if c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' {
		if isInferInt(v) {
			return kindInt
		}
		if len(v) >= 10 && v[4] == '-' {
			if len(v) == 10 {
				if _, err := parseDate(v); err == nil {
					return kindDate
				}
			} else if _, _, err := parseTimestamp(v); err == nil {
				return kindTimestamp
			}
		}
		if isInferFloat(v) {
			return kindFloat
		}
		return kindString
	}
	if _, err := parseBool(v); err == nil && len(v) > 1 {
		return kindBool // "t"/"f" alone are too likely to be codes
	}
	return kindString
}

// typeOfKinds widens a column's kinds to one type: int → float → string,
// date → timestamp, anything else mixed → string; no values → string.
func typeOfKinds(k uint8) arrow.DataType {
	switch {
	case k == 0 || k&kindString != 0:
		return arrow.BinaryTypes.String
	case k == kindBool:
		return arrow.FixedWidthTypes.Boolean
	case k&^(kindInt|kindFloat) == 0:
		if k&kindFloat != 0 {
			return arrow.PrimitiveTypes.Float64
		}
		return arrow.PrimitiveTypes.Int64
	case k&^(kindDate|kindTimestamp) == 0:
		if k&kindTimestamp != 0 {
			return timestampType
		}
		return arrow.FixedWidthTypes.Date32
	}
	return arrow.BinaryTypes.String
}
