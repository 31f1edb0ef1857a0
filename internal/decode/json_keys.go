package decode

import (
	"encoding/binary"
	"strings"
	"unicode/utf8"
)

// keyMatch tells whether the key at a position is one column's name
// without scanning it. Keys mostly come in the order of the row before,
// so each is compared with the expected name: name+`"` as one or two
// 8-byte words for a name of up to 15 bytes, instead of a string
// comparison, which costs a call for every key of every row.
type keyMatch struct {
	name string
	// plain: name is valid UTF-8 with no byte a JSON string must escape
	// (a quote, a backslash, a control byte), so a key whose raw bytes are
	// the name's followed by a quote is that name.
	plain bool
	words int       // words of name+`"` compared as such: 1 or 2, 0 for a longer or not plain name
	word  [2]uint64 // name+`"` in little-endian words, zero past its end
	mask  [2]uint64 // the bytes of each word that belong to it
}

func newKeyMatch(name string) keyMatch {
	k := keyMatch{name: name}
	k.plain = utf8.ValidString(name) && !strings.ContainsFunc(name, func(r rune) bool { return r == '"' || r == '\\' || r < 0x20 })
	quoted := name + `"`
	if !k.plain || len(quoted) > 16 {
		return k
	}
	k.words = (len(quoted) + 7) / 8
	var w [16]byte
	copy(w[:], quoted)
	for i := range k.words {
		k.word[i] = binary.LittleEndian.Uint64(w[8*i:])
		k.mask[i] = ^uint64(0) >> (64 - 8*min(8, len(quoted)-8*i))
	}
	return k
}

// at reports whether the JSON string at b[p] (a quote) is exactly the
// name: its bytes, then the closing quote. A plain name only.
func (k *keyMatch) at(b []byte, p int) bool {
	q := p + 1
	switch {
	case k.words == 1 && q+8 <= len(b):
		return binary.LittleEndian.Uint64(b[q:])&k.mask[0] == k.word[0]
	case k.words == 2 && q+16 <= len(b):
		return binary.LittleEndian.Uint64(b[q:])&k.mask[0] == k.word[0] &&
			binary.LittleEndian.Uint64(b[q+8:])&k.mask[1] == k.word[1]
	}
	return k.plain && expectKey(b, p, k.name)
}

// expectKey reports whether the JSON string at b[p] (a quote) is exactly
// name, a name with nothing to escape: its bytes, then the closing quote.
func expectKey(b []byte, p int, name string) bool {
	end := p + 1 + len(name)
	return end < len(b) && b[end] == '"' && string(b[p+1:end]) == name
}
