package decode

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// timeLayout is a compiled strftime-style format, as DuckDB's dateformat
// and timestampformat take, for parsing. Written here rather than taken
// from a library: the one found (itchyny/timefmt-go, ~150 ns a value)
// normalises an impossible date such as 31.02.2024 to 2 March instead of
// refusing it, and returns time.Time where the decoder wants days and
// seconds and whether the value named its offset.
//
// Directives: %Y (1–4 digits) %y (00–68 → 20xx, 69–99 → 19xx) %m %d %e
// %H %I %M %S (1–2 digits) %f (1–9 digits of a second's fraction) %j
// (day of the year) %b %h %B (English month names, any case) %a %A
// (weekday names, read and ignored) %p (AM/PM) %z (Z, ±HH, ±HHMM, ±HH:MM)
// %T %F %D %R (their usual expansions) %%; a '-' flag (%-d) is accepted
// and changes nothing, as numbers take one digit or two anyway. Other
// bytes match themselves. A missing date part is 1970-01-01's.
type timeLayout struct {
	format string
	ops    []layoutOp
}

// layoutOp is one directive (verb) or a literal text to match (verb 0).
type layoutOp struct {
	verb byte
	lit  string
}

// compileLayout compiles format, refusing a directive it does not know.
func compileLayout(format string) (*timeLayout, error) {
	expanded := map[byte]string{'T': "%H:%M:%S", 'F': "%Y-%m-%d", 'D': "%m/%d/%y", 'R': "%H:%M"}
	l := &timeLayout{format: format}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			l.ops = append(l.ops, layoutOp{lit: lit.String()})
			lit.Reset()
		}
	}
	var walk func(f string, depth int) error
	walk = func(f string, depth int) error {
		for i := 0; i < len(f); i++ {
			if f[i] != '%' {
				lit.WriteByte(f[i])
				continue
			}
			i++
			if i < len(f) && f[i] == '-' {
				i++
			}
			if i >= len(f) {
				return errors.New("format ends with a lone %")
			}
			v := f[i]
			switch {
			case v == '%':
				lit.WriteByte('%')
			case expanded[v] != "" && depth == 0:
				if err := walk(expanded[v], 1); err != nil {
					return err
				}
			case strings.IndexByte("YymdeHIMSfjbhBaApz", v) >= 0:
				flush()
				l.ops = append(l.ops, layoutOp{verb: v})
			default:
				return fmt.Errorf("unsupported directive %%%c in format %q", v, format)
			}
		}
		return nil
	}
	if err := walk(format, 0); err != nil {
		return nil, err
	}
	flush()
	if !slices.ContainsFunc(l.ops, func(op layoutOp) bool { return op.verb != 0 }) {
		return nil, fmt.Errorf("format %q has no directive", format)
	}
	return l, nil
}

var (
	monthNames   = [12]string{"january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"}
	weekdayNames = [7]string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
)

// parse reads b with the layout. sec is seconds since the epoch of the
// wall-clock time as if it were UTC, unless zoned (the value had %z), when
// the offset has been applied; nsec is the fraction.
func (l *timeLayout) parse(b []byte) (sec, nsec int64, zoned bool, err error) {
	year, month, day, yday := int64(1970), int64(1), int64(1), int64(0)
	var hour, minute, second, off int64
	pm := -1 // -1: no %p
	p := 0
	for _, op := range l.ops {
		if op.verb == 0 {
			if len(b)-p < len(op.lit) || string(b[p:p+len(op.lit)]) != op.lit {
				return 0, 0, false, fmt.Errorf("expected %q at offset %d", op.lit, p)
			}
			p += len(op.lit)
			continue
		}
		var v int64
		var ok bool
		switch op.verb {
		case 'Y':
			v, p, ok = digitsAt(b, p, 4)
			year = v
		case 'y':
			if v, p, ok = digitsAt(b, p, 2); ok {
				year = 2000 + v
				if v >= 69 {
					year = 1900 + v
				}
			}
		case 'm':
			v, p, ok = digitsAt(b, p, 2)
			month, ok = v, ok && v >= 1 && v <= 12
		case 'd', 'e':
			if op.verb == 'e' && p < len(b) && b[p] == ' ' {
				p++ // %e pads with a space
			}
			v, p, ok = digitsAt(b, p, 2)
			day, ok = v, ok && v >= 1 && v <= 31
		case 'j':
			v, p, ok = digitsAt(b, p, 3)
			yday, ok = v, ok && v >= 1 && v <= 366
		case 'H':
			v, p, ok = digitsAt(b, p, 2)
			hour, ok = v, ok && v <= 23
		case 'I':
			v, p, ok = digitsAt(b, p, 2)
			hour, ok = v, ok && v >= 1 && v <= 12
		case 'M':
			v, p, ok = digitsAt(b, p, 2)
			minute, ok = v, ok && v <= 59
		case 'S':
			v, p, ok = digitsAt(b, p, 2)
			second, ok = v, ok && v <= 59
		case 'f':
			q := p
			scale := int64(100_000_000)
			for ; q < len(b) && q-p < 9 && b[q] >= '0' && b[q] <= '9'; q++ {
				nsec += int64(b[q]-'0') * scale
				scale /= 10
			}
			ok, p = q > p, q
		case 'b', 'h', 'B':
			var m int
			m, p, ok = nameAt(b, p, monthNames[:], op.verb != 'B')
			month = int64(m + 1)
		case 'a', 'A':
			_, p, ok = nameAt(b, p, weekdayNames[:], op.verb == 'a')
		case 'p':
			if ok = len(b)-p >= 2 && (b[p+1]|0x20) == 'm'; ok {
				switch b[p] | 0x20 {
				case 'a':
					pm = 0
				case 'p':
					pm = 1
				default:
					ok = false
				}
				p += 2
			}
		case 'z':
			off, p, ok = offsetAt(b, p)
			zoned = zoned || ok
		}
		if !ok {
			return 0, 0, false, fmt.Errorf("%%%c does not match at offset %d", op.verb, p)
		}
	}
	if p < len(b) {
		return 0, 0, false, fmt.Errorf("unexpected %q at offset %d", clip(b[p:]), p)
	}
	if pm >= 0 {
		hour = hour%12 + int64(pm)*12
	}
	var days int64
	if yday > 0 {
		if yday > 365 && daysIn(year, 2) == 28 {
			return 0, 0, false, fmt.Errorf("day %d of the year is not in %d", yday, year)
		}
		days = daysFromCivil(year, 1, 1) + yday - 1
	} else {
		if day > daysIn(year, month) {
			return 0, 0, false, fmt.Errorf("day %d is not in %04d-%02d", day, year, month)
		}
		days = daysFromCivil(year, month, day)
	}
	return days*86400 + hour*3600 + minute*60 + second - off, nsec, zoned, nil
}

// digitsAt reads one to max digits at b[p].
func digitsAt(b []byte, p, max int) (int64, int, bool) {
	var v int64
	q := p
	for ; q < len(b) && q-p < max && b[q] >= '0' && b[q] <= '9'; q++ {
		v = v*10 + int64(b[q]-'0')
	}
	return v, q, q > p
}

// nameAt matches one of names (lower case) at b[p] in any case, whole or,
// if abbr, by its first three letters.
func nameAt(b []byte, p int, names []string, abbr bool) (int, int, bool) {
	for i, n := range names {
		if abbr {
			n = n[:3]
		}
		if len(b)-p >= len(n) && eqFold(b[p:p+len(n)], n) {
			return i, p + len(n), true
		}
	}
	return 0, p, false
}

// offsetAt reads Z, ±HH, ±HHMM or ±HH:MM at b[p] as seconds east of UTC.
func offsetAt(b []byte, p int) (int64, int, bool) {
	if p < len(b) && (b[p] == 'Z' || b[p] == 'z') {
		return 0, p + 1, true
	}
	if p >= len(b) || b[p] != '+' && b[p] != '-' {
		return 0, p, false
	}
	neg := b[p] == '-'
	h, q, ok := fixedDigits(b, p+1, 2)
	if !ok || h > 23 {
		return 0, p, false
	}
	var m int64
	r := q
	if r < len(b) && b[r] == ':' {
		r++
	}
	if mm, r2, ok := fixedDigits(b, r, 2); ok && mm <= 59 {
		m, q = mm, r2
	}
	off := h*3600 + m*60
	if neg {
		off = -off
	}
	return off, q, true
}

// fixedDigits reads exactly n digits at b[p].
func fixedDigits(b []byte, p, n int) (int64, int, bool) {
	if len(b)-p < n {
		return 0, p, false
	}
	v, ok := num(b[p : p+n])
	return v, p + n, ok
}
