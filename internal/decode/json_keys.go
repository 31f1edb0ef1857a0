package decode

import (
	"encoding/binary"
	"strings"
	"unicode/utf8"
)

// keyMatch tells whether the key at a position is one column's name
// without scanning it. Keys mostly come in the order of the row before,
// so each is compared with the expected name: as one 8-byte word (the
// name and its closing quote, or the name's first eight bytes) instead of
// a string comparison, which costs a call for every key of every row.
type keyMatch struct {
	name string
	// plain: name is valid UTF-8 with no byte a JSON string must escape
	// (a quote, a backslash, a control byte), so a key whose raw bytes are
	// the name's followed by a quote is that name.
	plain      bool
	word, mask uint64 // the first bytes of name+`"`, at most eight
}

func newKeyMatch(name string) keyMatch {
	k := keyMatch{name: name}
	k.plain = utf8.ValidString(name) && !strings.ContainsFunc(name, func(r rune) bool { return r == '"' || r == '\\' || r < 0x20 })
	var w [8]byte
	n := copy(w[:], name+`"`)
	k.word = binary.LittleEndian.Uint64(w[:])
	k.mask = ^uint64(0) >> (64 - 8*n)
	return k
}

// at reports whether the JSON string at b[p] (a quote) is exactly the
// name: its bytes, then the closing quote. A plain name only.
func (k *keyMatch) at(b []byte, p int) bool {
	q := p + 1
	if !k.plain {
		return false
	}
	if q+8 > len(b) {
		return expectKey(b, p, k.name)
	}
	if binary.LittleEndian.Uint64(b[q:])&k.mask != k.word {
		return false
	}
	if len(k.name) < 8 {
		return true // the word held the closing quote
	}
	return expectKey(b[q+8-1:], 0, k.name[8:])
}

// expectKey reports whether the JSON string at b[p] (a quote) is exactly
// name, a name with nothing to escape: its bytes, then the closing quote.
func expectKey(b []byte, p int, name string) bool {
	end := p + 1 + len(name)
	return end < len(b) && b[end] == '"' && string(b[p+1:end]) == name
}
