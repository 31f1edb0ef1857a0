package decode

import (
	"bytes"
	"strconv"
)

// Kinds of JSON value, as the object walker reports them.
type jsonKind uint8

const (
	jsonNull jsonKind = iota
	jsonBool
	jsonNumber
	jsonString
	jsonObject
	jsonArray
)

func (k jsonKind) String() string {
	return [...]string{"null", "boolean", "number", "string", "object", "array"}[k]
}

// walkObject calls fn for each member of obj, which must be a valid JSON
// object (the scanner checked it). key is the raw key between its quotes
// (escapes not yet undone) and raw the value's bytes, quotes included for
// strings. A false return stops the walk.
func walkObject(obj []byte, fn func(key []byte, kind jsonKind, raw []byte) bool) {
	i := skipWS(obj, 1)
	for i < len(obj) && obj[i] != '}' {
		kEnd := stringEnd(obj, i)
		key := obj[i+1 : kEnd-1]
		i = skipWS(obj, kEnd)
		i = skipWS(obj, i+1) // past ':'
		kind, vEnd := valueEnd(obj, i)
		if !fn(key, kind, obj[i:vEnd]) {
			return
		}
		i = skipWS(obj, vEnd)
		if i < len(obj) && obj[i] == ',' {
			i = skipWS(obj, i+1)
		}
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the string starting at b[i] == '"'.
func stringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// valueEnd returns the kind of the value starting at b[i] and the index
// just past it.
func valueEnd(b []byte, i int) (jsonKind, int) {
	switch b[i] {
	case '"':
		return jsonString, stringEnd(b, i)
	case '{', '[':
		kind := jsonObject
		if b[i] == '[' {
			kind = jsonArray
		}
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = stringEnd(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return kind, j + 1
				}
			}
		}
		return kind, len(b)
	case 't':
		return jsonBool, i + 4
	case 'f':
		return jsonBool, i + 5
	case 'n':
		return jsonNull, i + 4
	}
	j := i
	for j < len(b) && (b[j] >= '0' && b[j] <= '9' || b[j] == '-' || b[j] == '+' || b[j] == '.' || b[j] == 'e' || b[j] == 'E') {
		j++
	}
	return jsonNumber, j
}

func hex4(b []byte) rune {
	v, _ := strconv.ParseUint(view(b), 16, 32)
	return rune(v)
}

// isIntLiteral reports whether a JSON number has no fraction or exponent.
func isIntLiteral(raw []byte) bool {
	return bytes.IndexAny(raw, ".eE") < 0
}

// unquoteKey undoes the escapes of an object key given without its quotes,
// using *scratch when there are any.
func unquoteKey(key []byte, scratch *[]byte) []byte {
	if bytes.IndexByte(key, '\\') < 0 {
		return key
	}
	*scratch = appendUnescaped((*scratch)[:0], key)
	return *scratch
}
