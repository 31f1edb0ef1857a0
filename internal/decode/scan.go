package decode

import (
	"encoding/binary"
	"math/bits"
)

// Scanners for the CSV fast path: each parses a value of the common,
// strict form starting at b[p] and returns where it stopped, without
// knowing where the field ends. The caller checks that a field terminator
// follows; anything else (a sign they do not take, an exponent, a space,
// too many digits, a quote) makes them fail, and the field goes through
// the general parsers in parse.go, whose results they must equal wherever
// both succeed (the fuzz tests check this).

// pow10f holds the powers of ten that are exact in a float64.
var pow10f = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
	1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// scanInt parses -?[0-9]{1,18}: always within int64.
func scanInt(b []byte, p int) (int64, int, bool) {
	neg := false
	if p < len(b) && b[p] == '-' {
		neg = true
		p++
	}
	start := p
	var u uint64
	for p < len(b) {
		d := b[p] - '0'
		if d > 9 {
			break
		}
		u = u*10 + uint64(d)
		p++
	}
	if nd := p - start; nd == 0 || nd > 18 {
		return 0, p, false
	}
	if neg {
		return -int64(u), p, true
	}
	return int64(u), p, true
}

// scanFloat parses -?[0-9]*\.?[0-9]* with 1 to 15 digits in all. Such a
// mantissa is below 2^53 and the scale at most 10^15, both exact in a
// float64, so one division is the correctly rounded value that
// strconv.ParseFloat returns (Clinger's fast path, which strconv itself
// takes for these inputs).
func scanFloat(b []byte, p int) (float64, int, bool) {
	neg := false
	if p < len(b) && b[p] == '-' {
		neg = true
		p++
	}
	var m uint64
	start := p
	for p < len(b) {
		d := b[p] - '0'
		if d > 9 {
			break
		}
		m = m*10 + uint64(d)
		p++
	}
	nd, k := p-start, 0
	if p < len(b) && b[p] == '.' {
		p++
		start = p
		for p < len(b) {
			d := b[p] - '0'
			if d > 9 {
				break
			}
			m = m*10 + uint64(d)
			p++
		}
		k = p - start
		nd += k
	}
	if nd == 0 || nd > 15 {
		return 0, p, false
	}
	f := float64(m)
	if k > 0 {
		f /= pow10f[k]
	}
	if neg {
		f = -f
	}
	return f, p, true
}

// scanBool parses true or false, lower case.
func scanBool(b []byte, p int) (bool, int, bool) {
	if p+4 <= len(b) && string(b[p:p+4]) == "true" {
		return true, p + 4, true
	}
	if p+5 <= len(b) && string(b[p:p+5]) == "false" {
		return false, p + 5, true
	}
	return false, p, false
}

// dateCache remembers the last date a column parsed: timestamps in a file
// mostly share their date with the row before.
type dateCache struct {
	lo   uint64
	hi   uint16
	days int64
	ok   bool
}

// days parses YYYY-MM-DD from the 10 bytes of t.
func (dc *dateCache) parse(t []byte) (int64, bool) {
	lo, hi := binary.LittleEndian.Uint64(t), binary.LittleEndian.Uint16(t[8:10])
	if dc.ok && lo == dc.lo && hi == dc.hi {
		return dc.days, true
	}
	d, ok := parseYMD(t[:10])
	if ok {
		*dc = dateCache{lo: lo, hi: hi, days: d, ok: true}
	}
	return d, ok
}

// scanDate parses YYYY-MM-DD into days since the epoch.
func scanDate(b []byte, p int, dc *dateCache) (int32, int, bool) {
	if p+10 > len(b) {
		return 0, p, false
	}
	d, ok := dc.parse(b[p : p+10])
	return int32(d), p + 10, ok
}

// two parses two ASCII digits.
func two(a, b byte) (int64, bool) {
	x, y := a-'0', b-'0'
	return int64(x)*10 + int64(y), x <= 9 && y <= 9
}

// scanTimestamp parses YYYY-MM-DD[T ]HH:MM:SS[.f{1,9}][Z|±HH:MM] into
// seconds and nanoseconds; no offset means UTC, as in parseTimestamp.
func scanTimestamp(b []byte, p int, dc *dateCache) (int64, int64, int, bool) {
	if p+19 > len(b) {
		return 0, 0, p, false
	}
	t := b[p : p+19]
	days, ok := dc.parse(t[:10])
	if !ok || t[10] != 'T' && t[10] != ' ' || t[13] != ':' || t[16] != ':' {
		return 0, 0, p, false
	}
	hh, ok1 := two(t[11], t[12])
	mm, ok2 := two(t[14], t[15])
	ss, ok3 := two(t[17], t[18])
	if !ok1 || !ok2 || !ok3 || hh > 23 || mm > 59 || ss > 59 {
		return 0, 0, p, false
	}
	q := p + 19
	var nsec int64
	if q < len(b) && b[q] == '.' {
		q++
		start := q
		for q < len(b) {
			d := b[q] - '0'
			if d > 9 {
				break
			}
			nsec = nsec*10 + int64(d)
			q++
		}
		nd := q - start
		if nd == 0 || nd > 9 {
			return 0, 0, p, false
		}
		nsec *= int64(pow10i[9-nd])
	}
	var off int64
	if q < len(b) {
		switch b[q] {
		case 'Z':
			q++
		case '+', '-':
			if q+6 > len(b) || b[q+3] != ':' {
				return 0, 0, p, false
			}
			oh, ok1 := two(b[q+1], b[q+2])
			om, ok2 := two(b[q+4], b[q+5])
			if !ok1 || !ok2 || oh > 23 || om > 59 {
				return 0, 0, p, false
			}
			off = oh*3600 + om*60
			if b[q] == '-' {
				off = -off
			}
			q += 6
		}
	}
	return days*86400 + hh*3600 + mm*60 + ss - off, nsec, q, true
}

// pow10i holds the powers of ten up to 10^9.
var pow10i = [...]int64{1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000}

const (
	swarLo = 0x0101010101010101
	swarHi = 0x8080808080808080
	swar7F = 0x7F7F7F7F7F7F7F7F
)

// zeroBytes sets the high bit of each byte of x that is zero, exactly
// (no carries between bytes, unlike the shorter haszero trick).
func zeroBytes(x uint64) uint64 {
	return ^((x&swar7F + swar7F) | x | swar7F)
}

// firstZeroBytes sets the high bit of the lowest zero byte of x, and
// maybe of bytes above it (a borrow from a zero byte can flag the next
// one): enough for finding the first, in three operations.
func firstZeroBytes(x uint64) uint64 {
	return (x - swarLo) &^ x & swarHi
}

// scanText returns the index of the first delimiter or '\n' at or after
// b[p] (len(b) if none), and whether the bytes before it are all ASCII.
// It reads 8 bytes at a time. delims is the delimiter in every byte.
func scanText(b []byte, p int, delims uint64) (int, bool) {
	var high uint64
	for p+8 <= len(b) {
		w := binary.LittleEndian.Uint64(b[p:])
		x, y := w^delims, w^(swarLo*'\n')
		if m := (x-swarLo)&^x | (y-swarLo)&^y; m&swarHi != 0 {
			m &= swarHi
			k := bits.TrailingZeros64(m) // 8*i + 7 for the first match i
			high |= w & (1<<(k-7) - 1)
			return p + k>>3, high&swarHi == 0
		}
		high |= w
		p += 8
	}
	d := byte(delims)
	for ; p < len(b); p++ {
		c := b[p]
		if c == d || c == '\n' {
			break
		}
		high |= uint64(c)
	}
	return p, high&swarHi == 0
}
