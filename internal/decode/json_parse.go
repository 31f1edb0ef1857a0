package decode

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// A validating JSON parser over a byte buffer, one pass, no allocation.
// The buffer is followed by at least jsonPad zero bytes: a zero byte is
// invalid everywhere in JSON, so running off the end of the data shows up
// as an error at a position >= the data's end, which the caller tells
// apart from a real syntax error (more input may complete the value).

const (
	jsonPad      = 16
	jsonMaxDepth = 10_000 // as encoding/json
)

// jsonFail says why parsing stopped.
type jsonFail uint8

const (
	jsonOK     jsonFail = iota
	jsonSyntax          // at the returned position (>= the data's end: truncated)
	jsonBadUTF8
)

// isSpace reports JSON whitespace.
// isSpace: JSON's whitespace. Most bytes are above ' ', so one comparison
// answers for them.
func isSpace(c byte) bool { return c <= ' ' && (c == ' ' || c == '\n' || c == '\r' || c == '\t') }

func skipSpace(b []byte, p int) int {
	for p < len(b) && isSpace(b[p]) {
		p++
	}
	return p
}

// scanString checks the string starting at b[p] == '"' and returns the
// index just past its closing quote and whether it has escapes; on failure
// the position of the offending byte.
func scanString(b []byte, p int) (end int, esc bool, fail jsonFail) {
	p++
	start := p
	var high uint64
	for {
		for p+8 <= len(b) {
			w := binary.LittleEndian.Uint64(b[p:])
			// A quote, a backslash or a control byte. The last test can
			// also flag bytes after a true match (borrows), never before,
			// so the lowest flag is exact.
			m := zeroBytes(w^(swarLo*'"')) | zeroBytes(w^(swarLo*'\\')) | (w-swarLo*0x20)&^w&swarHi
			if m != 0 {
				k := bits.TrailingZeros64(m)
				high |= w & (1<<(k-7) - 1)
				p += k >> 3
				goto special
			}
			high |= w
			p += 8
		}
		for p < len(b) {
			c := b[p]
			if c == '"' || c == '\\' || c < 0x20 {
				goto special
			}
			high |= uint64(c)
			p++
		}
		return p, esc, jsonSyntax
	special:
		switch c := b[p]; {
		case c == '"':
			if high&swarHi != 0 && !utf8.Valid(b[start:p]) {
				return start, esc, jsonBadUTF8
			}
			return p + 1, esc, jsonOK
		case c == '\\':
			esc = true
			if p+1 >= len(b) {
				return p + 1, esc, jsonSyntax
			}
			switch b[p+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p += 2
			case 'u':
				for i := p + 2; i < p+6; i++ {
					if i >= len(b) || !isHex(b[i]) {
						return i, esc, jsonSyntax
					}
				}
				p += 6
			default:
				return p + 1, esc, jsonSyntax
			}
		default:
			return p, esc, jsonSyntax
		}
	}
}

func isHex(c byte) bool { return c-'0' <= 9 || (c|0x20)-'a' <= 5 }

// scanNumber checks the number starting at b[p] and returns its end. For
// an integer of at most 18 digits it also returns its value and isInt.
func scanNumber(b []byte, p int) (end int, v int64, isInt bool, fail jsonFail) {
	neg := false
	if p < len(b) && b[p] == '-' {
		neg = true
		p++
	}
	start := p
	var u uint64
	switch {
	case p < len(b) && b[p] == '0':
		p++
	case p < len(b) && b[p]-'1' <= 8:
		for p < len(b) && b[p]-'0' <= 9 {
			u = u*10 + uint64(b[p]-'0')
			p++
		}
	default:
		return p, 0, false, jsonSyntax
	}
	isInt = p-start <= 18
	if p < len(b) && b[p] == '.' {
		isInt = false
		p++
		if p >= len(b) || b[p]-'0' > 9 {
			return p, 0, false, jsonSyntax
		}
		for p < len(b) && b[p]-'0' <= 9 {
			p++
		}
	}
	if p < len(b) && (b[p] == 'e' || b[p] == 'E') {
		isInt = false
		p++
		if p < len(b) && (b[p] == '+' || b[p] == '-') {
			p++
		}
		if p >= len(b) || b[p]-'0' > 9 {
			return p, 0, false, jsonSyntax
		}
		for p < len(b) && b[p]-'0' <= 9 {
			p++
		}
	}
	if neg {
		return p, -int64(u), isInt, jsonOK
	}
	return p, int64(u), isInt, jsonOK
}

// scanJSONFloat is scanNumber and scanFloat in one pass for the common
// number of a float column: -?(0|[1-9][0-9]*)(.[0-9]+)? of 1 to 15
// digits, which scanFloat turns into the correctly rounded value. ok is
// false for anything else (an exponent, more digits, bad syntax), which
// the two-pass path then takes; end is where scanNumber would end.
func scanJSONFloat(b []byte, p int) (f float64, end int, ok bool) {
	neg := p < len(b) && b[p] == '-'
	if neg {
		p++
	}
	if p >= len(b) || b[p]-'0' > 9 {
		return 0, p, false
	}
	var m uint64
	start := p
	if b[p] == '0' {
		p++
	} else {
		for p < len(b) && b[p]-'0' <= 9 {
			m = m*10 + uint64(b[p]-'0')
			p++
		}
	}
	nd, k := p-start, 0
	if p < len(b) && b[p] == '.' {
		p++
		start = p
		for p < len(b) && b[p]-'0' <= 9 {
			m = m*10 + uint64(b[p]-'0')
			p++
		}
		if k = p - start; k == 0 {
			return 0, p, false
		}
		nd += k
	}
	if nd > 15 || p < len(b) && (b[p]-'0' <= 9 || b[p] == '.' || b[p]|0x20 == 'e') {
		return 0, p, false
	}
	f = float64(m)
	if k > 0 {
		f /= pow10f[k]
	}
	if neg {
		f = -f
	}
	return f, p, true
}

// scanLiteral checks that word (true, false or null) starts at b[p].
func scanLiteral(b []byte, p int, word string) (int, jsonFail) {
	for i := 0; i < len(word); i++ {
		if p+i >= len(b) || b[p+i] != word[i] {
			return p + i, jsonSyntax
		}
	}
	return p + len(word), jsonOK
}

// skipValue checks the value starting at b[p] (not at a space) and
// returns its end.
func skipValue(b []byte, p, depth int) (int, jsonFail) {
	if p >= len(b) {
		return p, jsonSyntax
	}
	switch c := b[p]; c {
	case '"':
		end, _, fail := scanString(b, p)
		return end, fail
	case '{', '[':
		if depth >= jsonMaxDepth {
			return p, jsonSyntax
		}
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		p = skipSpace(b, p+1)
		if p < len(b) && b[p] == closer {
			return p + 1, jsonOK
		}
		for {
			var fail jsonFail
			if c == '{' {
				if p >= len(b) || b[p] != '"' {
					return p, jsonSyntax
				}
				if p, _, fail = scanString(b, p); fail != jsonOK {
					return p, fail
				}
				p = skipSpace(b, p)
				if p >= len(b) || b[p] != ':' {
					return p, jsonSyntax
				}
				p = skipSpace(b, p+1)
			}
			if p, fail = skipValue(b, p, depth+1); fail != jsonOK {
				return p, fail
			}
			p = skipSpace(b, p)
			if p >= len(b) {
				return p, jsonSyntax
			}
			if b[p] == closer {
				return p + 1, jsonOK
			}
			if b[p] != ',' {
				return p, jsonSyntax
			}
			p = skipSpace(b, p+1)
		}
	case 't':
		return scanLiteral(b, p, "true")
	case 'f':
		return scanLiteral(b, p, "false")
	case 'n':
		return scanLiteral(b, p, "null")
	}
	end, _, _, fail := scanNumber(b, p)
	return end, fail
}

// appendUnescaped appends the content of a valid JSON string (without its
// quotes) to dst with its escapes undone; lone surrogates become U+FFFD,
// as in encoding/json.
func appendUnescaped(dst, s []byte) []byte {
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\\' {
			i++
		}
		dst = append(dst, s[:i]...)
		if i == len(s) {
			break
		}
		s = s[i:]
		switch s[1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(s[2:6])
			n := 6
			if r >= 0xD800 && r < 0xDC00 && len(s) >= 12 && s[6] == '\\' && s[7] == 'u' {
				if r2 := hex4(s[8:12]); r2 >= 0xDC00 && r2 < 0xE000 {
					r = (r-0xD800)<<10 | (r2 - 0xDC00) + 0x10000
					n = 12
				}
			}
			if r >= 0xD800 && r < 0xE000 {
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			s = s[n:]
			continue
		default: // '"', '\\', '/'
			dst = append(dst, s[1])
		}
		s = s[2:]
	}
	return dst
}
