package decode

import (
	"errors"
	"math"
	"strconv"
	"unsafe"
)

// Value parsers shared by the CSV and JSON decoders. They work on []byte
// without allocating on success.

var (
	errSyntax = errors.New("invalid syntax")
	errRange  = errors.New("value out of range")
)

// view returns b as a string without copying, for strconv calls that do not
// retain their argument (strconv clones it into any error it returns).
func view(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// trimSpace drops ASCII spaces and tabs around a non-string value.
func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// parseInt parses a base-10 integer with an optional sign into bits bits.
func parseInt(b []byte, bits int) (int64, error) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	u, err := parseDigits(b)
	if err != nil {
		return 0, err
	}
	limit := uint64(1) << (bits - 1)
	if neg {
		if u > limit {
			return 0, errRange
		}
		return -int64(u-1) - 1, nil
	}
	if u >= limit {
		return 0, errRange
	}
	return int64(u), nil
}

// parseUint parses a base-10 unsigned integer into bits bits.
func parseUint(b []byte, bits int) (uint64, error) {
	if len(b) > 0 && b[0] == '+' {
		b = b[1:]
	}
	u, err := parseDigits(b)
	if err != nil {
		return 0, err
	}
	if bits < 64 && u >= uint64(1)<<bits {
		return 0, errRange
	}
	return u, nil
}

func parseDigits(b []byte) (uint64, error) {
	if len(b) == 0 {
		return 0, errSyntax
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, errSyntax
		}
		if u > (math.MaxUint64-9)/10 {
			// Might still fit; let the slow check decide.
			hi, lo := u*10, uint64(c-'0')
			if u > math.MaxUint64/10 || hi > math.MaxUint64-lo {
				return 0, errRange
			}
			u = hi + lo
			continue
		}
		u = u*10 + uint64(c-'0')
	}
	return u, nil
}

func parseFloat(b []byte, bits int) (float64, error) {
	f, err := strconv.ParseFloat(view(b), bits)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) {
			return 0, ne.Err
		}
		return 0, err
	}
	return f, nil
}

// parseBool accepts true/false in any case, t/f and 1/0.
func parseBool(b []byte) (bool, error) {
	switch len(b) {
	case 1:
		switch b[0] {
		case '1', 't', 'T':
			return true, nil
		case '0', 'f', 'F':
			return false, nil
		}
	case 4:
		if eqFold(b, "true") {
			return true, nil
		}
	case 5:
		if eqFold(b, "false") {
			return false, nil
		}
	}
	return false, errSyntax
}

// eqFold compares b with the lower-case ASCII word w, ignoring case.
func eqFold(b []byte, w string) bool {
	if len(b) != len(w) {
		return false
	}
	for i := range b {
		if b[i]|0x20 != w[i] {
			return false
		}
	}
	return true
}

// isInferInt reports whether inference should call b an integer: digits
// with an optional sign, and no leading zero that an identifier would lose.
func isInferInt(b []byte) bool {
	d := b
	if len(d) > 0 && (d[0] == '-' || d[0] == '+') {
		d = d[1:]
	}
	if len(d) == 0 || len(d) > 1 && d[0] == '0' {
		return false
	}
	_, err := parseInt(b, 64)
	return err == nil
}

// isInferFloat reports whether inference should call b a float: a plain
// decimal number, with no leading-zero integer part, NaN, Inf or hex form.
func isInferFloat(b []byte) bool {
	d := b
	if len(d) > 0 && (d[0] == '-' || d[0] == '+') {
		d = d[1:]
	}
	if len(d) == 0 || d[0] != '.' && (d[0] < '0' || d[0] > '9') {
		return false
	}
	if len(d) > 1 && d[0] == '0' && d[1] >= '0' && d[1] <= '9' {
		return false
	}
	for _, c := range d {
		if !(c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
			return false
		}
	}
	_, err := parseFloat(b, 64)
	return err == nil
}

// parseDate parses YYYY-MM-DD into days since the Unix epoch.
func parseDate(b []byte) (int32, error) {
	if len(b) != 10 {
		return 0, errSyntax
	}
	days, ok := parseYMD(b)
	if !ok {
		return 0, errSyntax
	}
	return int32(days), nil
}

func parseYMD(b []byte) (int64, bool) {
	if len(b) < 10 || b[4] != '-' || b[7] != '-' {
		return 0, false
	}
	y, ok1 := num(b[0:4])
	m, ok2 := num(b[5:7])
	d, ok3 := num(b[8:10])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, false
	}
	return daysFromCivil(y, m, d), true
}

// parseTimestamp parses a date with a time of day, optional fraction (up to
// nanoseconds) and optional offset (Z, ±HH, ±HHMM, ±HH:MM; none means UTC),
// separated by 'T' or a space. It returns nanoseconds-resolution parts:
// seconds since the epoch and the fraction.
func parseTimestamp(b []byte) (sec int64, nsec int64, err error) {
	sec, nsec, _, err = parseTimestampZoned(b)
	return sec, nsec, err
}

// parseTimestampZoned is parseTimestamp that also says whether the value
// named its offset (zoned), so one without can be read in another zone.
func parseTimestampZoned(b []byte) (sec int64, nsec int64, zoned bool, err error) {
	days, ok := parseYMD(b)
	if !ok || len(b) < 16 || (b[10] != 'T' && b[10] != 't' && b[10] != ' ') {
		return 0, 0, false, errSyntax
	}
	t := b[11:]
	if len(t) < 5 || t[2] != ':' {
		return 0, 0, false, errSyntax
	}
	hh, ok1 := num(t[0:2])
	mm, ok2 := num(t[3:5])
	if !ok1 || !ok2 || hh > 23 || mm > 59 {
		return 0, 0, false, errSyntax
	}
	t = t[5:]
	var ss int64
	if len(t) >= 3 && t[0] == ':' {
		var ok bool
		if ss, ok = num(t[1:3]); !ok || ss > 59 {
			return 0, 0, false, errSyntax
		}
		t = t[3:]
		if len(t) > 1 && (t[0] == '.' || t[0] == ',') {
			i := 1
			scale := int64(100_000_000)
			for ; i < len(t) && t[i] >= '0' && t[i] <= '9'; i++ {
				nsec += int64(t[i]-'0') * scale
				scale /= 10
			}
			if i == 1 {
				return 0, 0, false, errSyntax
			}
			t = t[i:]
		}
	}
	var off int64
	switch {
	case len(t) == 0:
	case len(t) == 1 && (t[0] == 'Z' || t[0] == 'z'):
		zoned = true
	case t[0] == '+' || t[0] == '-':
		zoned = true
		z := t[1:]
		var hs, ms []byte
		switch {
		case len(z) == 2:
			hs = z
		case len(z) == 4:
			hs, ms = z[:2], z[2:]
		case len(z) == 5 && z[2] == ':':
			hs, ms = z[:2], z[3:]
		default:
			return 0, 0, false, errSyntax
		}
		oh, ok := num(hs)
		om, ok2 := num(ms)
		ok = ok && ok2
		if !ok || oh > 23 || om > 59 {
			return 0, 0, false, errSyntax
		}
		off = oh*3600 + om*60
		if t[0] == '-' {
			off = -off
		}
	default:
		return 0, 0, false, errSyntax
	}
	return days*86400 + hh*3600 + mm*60 + ss - off, nsec, zoned, nil
}

// timestampIn converts seconds and nanoseconds to a count of unit
// (0=s, 1=ms, 2=us, 3=ns, arrow.TimeUnit's order), refusing overflow and
// dropping precision finer than unit.
func timestampIn(sec, nsec int64, unit int) (int64, error) {
	// One case per unit: constant divisors compile to multiplications.
	switch unit {
	case 0:
		if sec > math.MaxInt64-1 || sec < math.MinInt64+1 {
			return 0, errRange
		}
		return sec, nil
	case 1:
		if sec > math.MaxInt64/1_000-1 || sec < math.MinInt64/1_000+1 {
			return 0, errRange
		}
		return sec*1_000 + nsec/1_000_000, nil
	case 2:
		if sec > math.MaxInt64/1_000_000-1 || sec < math.MinInt64/1_000_000+1 {
			return 0, errRange
		}
		return sec*1_000_000 + nsec/1_000, nil
	}
	if sec > math.MaxInt64/1_000_000_000-1 || sec < math.MinInt64/1_000_000_000+1 {
		return 0, errRange
	}
	return sec*1_000_000_000 + nsec, nil
}

func num(b []byte) (int64, bool) {
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func daysIn(y, m int64) int64 {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil is Howard Hinnant's days_from_civil: proleptic Gregorian
// date to days since 1970-01-01.
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
