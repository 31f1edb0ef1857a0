package decode

import (
	"bytes"

	"github.com/apache/arrow-go/v18/arrow"
)

// Kinds of sampled JSON value. Strings that read as ISO-8601 dates or
// timestamps get their own kinds, as CSV's text does; a timestamp with an
// offset (Z, ±HH:MM) is told apart from one without.
const (
	shInt uint16 = 1 << iota
	shFloat
	shBool
	shDate
	shTimestamp      // with an offset: an instant
	shLocalTimestamp // without one: a wall-clock time
	shString
	shObject
	shArray
)

// localTimestampType is what timestamps without an offset become.
var localTimestampType = &arrow.TimestampType{Unit: arrow.Microsecond}

// jsonShape is what the sampled values of one column (or struct field, or
// list element) say: the union of their kinds, and for objects the keys in
// order of first appearance, for arrays the shape of all their elements.
type jsonShape struct {
	kinds  uint16
	names  []string
	index  map[string]int
	fields []*jsonShape
	elem   *jsonShape
}

// add folds one value into the shape. raw is valid JSON (the scanner
// checked it).
func (sh *jsonShape) add(kind jsonKind, raw []byte, scratch *[]byte) {
	switch kind {
	case jsonNull:
	case jsonBool:
		sh.kinds |= shBool
	case jsonNumber:
		if isIntLiteral(raw) {
			if _, err := parseInt(raw, 64); err == nil {
				sh.kinds |= shInt
				return
			}
		}
		sh.kinds |= shFloat
	case jsonString:
		sh.kinds |= classifyJSONString(raw[1 : len(raw)-1])
	case jsonObject:
		sh.kinds |= shObject
		walkObject(raw, func(key []byte, kind jsonKind, v []byte) bool {
			_, f := sh.field(unquoteKey(key, scratch))
			f.add(kind, v, scratch)
			return true
		})
	case jsonArray:
		sh.kinds |= shArray
		if sh.elem == nil {
			sh.elem = &jsonShape{}
		}
		walkArray(raw, func(kind jsonKind, v []byte) {
			sh.elem.add(kind, v, scratch)
		})
	}
}

// field is the index and shape of the object key name, added if new.
func (sh *jsonShape) field(name []byte) (int, *jsonShape) {
	if i, ok := sh.index[string(name)]; ok {
		return i, sh.fields[i]
	}
	if sh.index == nil {
		sh.index = map[string]int{}
	}
	sh.index[string(name)] = len(sh.names)
	sh.names = append(sh.names, string(name))
	f := &jsonShape{}
	sh.fields = append(sh.fields, f)
	return len(sh.fields) - 1, f
}

// classifyJSONString names the kind of a JSON string's content: a date,
// a timestamp (with or without offset), or plain text.
func classifyJSONString(s []byte) uint16 {
	if len(s) < 10 || s[4] != '-' || bytes.IndexByte(s, '\\') >= 0 {
		return shString
	}
	if len(s) == 10 {
		if _, err := parseDate(s); err == nil {
			return shDate
		}
		return shString
	}
	// The same parser as CSV's inference and the timestamp appender, so
	// what is inferred a timestamp also loads as one.
	if _, _, err := parseTimestamp(s); err != nil {
		return shString
	}
	if bytes.ContainsAny(s[11:], "Zz+-") {
		return shTimestamp
	}
	return shLocalTimestamp
}

// jsonGroups counts the JSON value kinds (number, boolean, string, object,
// array) among k; an array whose elements are of more
// than one is kept as JSON text.
func jsonGroups(k uint16) int {
	n := 0
	for _, g := range [...]uint16{shInt | shFloat, shBool, shDate | shTimestamp | shLocalTimestamp | shString, shObject, shArray} {
		if k&g != 0 {
			n++
		}
	}
	return n
}

// dataType is the shape's inferred type. Widening follows CSV's: int →
// float → string, date → timestamp; strings of mixed kinds stay strings.
// Objects become structs of the union of their keys, arrays lists of
// their elements' type. Anything else mixed — an object or array beside
// scalars, or an array whose elements are of different JSON kinds (which
// no list type holds) — is kept as JSON text; so is a value only ever
// null, an object only ever empty (Parquet has no empty struct), and an
// element only seen in empty arrays.
func (sh *jsonShape) dataType() arrow.DataType {
	k := sh.kinds
	switch {
	case k == shObject:
		if len(sh.names) == 0 {
			return arrow.BinaryTypes.String
		}
		fields := make([]arrow.Field, len(sh.names))
		for i, n := range sh.names {
			fields[i] = arrow.Field{Name: n, Type: sh.fields[i].dataType(), Nullable: true}
		}
		return arrow.StructOf(fields...)
	case k == shArray:
		if jsonGroups(sh.elem.kinds) > 1 {
			return arrow.BinaryTypes.String
		}
		return arrow.ListOf(sh.elem.dataType())
	case k == shBool:
		return arrow.FixedWidthTypes.Boolean
	case k != 0 && k&^(shInt|shFloat) == 0:
		if k&shFloat != 0 {
			return arrow.PrimitiveTypes.Float64
		}
		return arrow.PrimitiveTypes.Int64
	case k == shDate:
		return arrow.FixedWidthTypes.Date32
	case k != 0 && k&^(shDate|shTimestamp|shLocalTimestamp) == 0:
		if k&shTimestamp == 0 {
			return localTimestampType
		}
		// Values without an offset beside ones with are taken as UTC,
		// as CSV takes them.
		return timestampType
	}
	return arrow.BinaryTypes.String
}

// fits reports whether every sampled value of the shape decodes into a
// column of type dt. Nested values fit any nested type here: whether
// their insides fit is found while decoding, which names the line.
func (sh *jsonShape) fits(dt arrow.DataType) bool {
	id := dt.ID()
	switch id {
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		return true
	}
	for bit := uint16(1); bit != 0 && bit <= shArray; bit <<= 1 {
		if sh.kinds&bit != 0 && !jsonShapeKindFits(bit, dt) {
			return false
		}
	}
	return true
}

func jsonShapeKindFits(bit uint16, dt arrow.DataType) bool {
	id := dt.ID()
	switch bit {
	case shInt:
		return arrow.IsInteger(id) || arrow.IsFloating(id) || arrow.IsDecimal(id)
	case shFloat:
		return arrow.IsFloating(id) || arrow.IsDecimal(id)
	case shBool:
		return id == arrow.BOOL
	case shString, shDate, shTimestamp, shLocalTimestamp:
		// As before strings had kinds: whether the text parses as the
		// column's type is found while decoding, which names the line.
		switch id {
		case arrow.BINARY, arrow.LARGE_BINARY, arrow.BINARY_VIEW, arrow.DATE32, arrow.DATE64, arrow.TIMESTAMP:
			return true
		}
		return arrow.IsDecimal(id)
	case shObject, shArray:
		return isNestedJSONType(dt)
	}
	return false
}

// walkArray calls fn for each element of arr, a valid JSON array.
func walkArray(arr []byte, fn func(kind jsonKind, raw []byte)) {
	i := skipWS(arr, 1)
	for i < len(arr) && arr[i] != ']' {
		kind, end := valueEnd(arr, i)
		fn(kind, arr[i:end])
		i = skipWS(arr, end)
		if i < len(arr) && arr[i] == ',' {
			i = skipWS(arr, i+1)
		}
	}
}
