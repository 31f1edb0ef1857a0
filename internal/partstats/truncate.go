package partstats

import (
	"bytes"
	"unicode/utf8"
)

// truncateLength is how much of a string (in code points) or binary (in
// bytes) value a bound keeps: Iceberg's default metrics mode, truncate(16).
const truncateLength = 16

func validUTF8(b []byte) bool { return utf8.Valid(b) }

// truncateStringLower is a lower bound for s: its first code points.
func truncateStringLower(s []byte) []byte {
	return bytes.Clone(s[:prefixLen(s)])
}

// truncateStringUpper is an upper bound for s: s itself when short, else
// its first code points with the last one that can be incremented so
// incremented (and the rest dropped); nil when none can be.
func truncateStringUpper(s []byte) []byte {
	n := prefixLen(s)
	if n == len(s) {
		return bytes.Clone(s)
	}
	s = s[:n]
	for len(s) > 0 {
		r, size := utf8.DecodeLastRune(s)
		s = s[:len(s)-size]
		if next, ok := nextRune(r); ok {
			return utf8.AppendRune(bytes.Clone(s), next)
		}
	}
	return nil
}

// prefixLen is the byte length of s's first truncateLength code points.
func prefixLen(s []byte) int {
	n := 0
	for i := 0; i < truncateLength && n < len(s); i++ {
		_, size := utf8.DecodeRune(s[n:])
		n += size
	}
	return n
}

// nextRune is the code point after r, skipping the surrogates, which
// UTF-8 cannot hold.
func nextRune(r rune) (rune, bool) {
	r++
	if r == 0xD800 {
		r = 0xE000
	}
	return r, r <= utf8.MaxRune
}

// truncateBinaryLower is a lower bound for b: its first bytes.
func truncateBinaryLower(b []byte) []byte {
	return bytes.Clone(b[:min(len(b), truncateLength)])
}

// truncateBinaryUpper is an upper bound for b: b itself when short, else
// its first bytes with the last one below 0xff incremented (and the rest
// dropped); nil when all are 0xff.
func truncateBinaryUpper(b []byte) []byte {
	if len(b) <= truncateLength {
		return bytes.Clone(b)
	}
	out := bytes.Clone(b[:truncateLength])
	for i := len(out) - 1; i >= 0; i-- {
		if out[i] < 0xff {
			out[i]++
			return out[:i+1]
		}
	}
	return nil
}
