package decode

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
)

// jsonDecoder parses objects where they lie in the reader's buffer and
// writes their values straight into columns, checking the JSON as it goes.
type jsonDecoder struct {
	jr    *jsonReader
	cs    *columns
	keys  []keyMatch // per column, its name: object checks the expected key so, without scanning it
	index map[string]int
	succ  []int   // succ[j+1]: the column whose key followed column j's last time (succ[0]: the first key)
	seen  []int64 // per column, the last row stamp it had a value in
	stamp int64
	apps  []jsonAppender // colGeneric columns
	later []jsonLater    // their values in the current object, applied when it is whole
	key   []byte         // an unescaped key
	text  []byte         // an unescaped string value
	cmp   bytes.Buffer   // a compacted nested value
	// onReject, when set, takes the objects that cannot load (reject.go);
	// raw holds a skipped line's text for it.
	onReject func(Reject) error
	raw      []byte
}

// jsonLater is a value for a builder column, kept until its object has
// been parsed whole (a builder cannot take a value back if the object must
// be parsed again after more input).
type jsonLater struct {
	col        int
	kind       jsonKind
	start, end int
}

func newJSONDecoder(jr *jsonReader, cs *columns) (*jsonDecoder, error) {
	nf := len(cs.cols)
	d := &jsonDecoder{jr: jr, cs: cs, keys: make([]keyMatch, nf), index: make(map[string]int, nf),
		succ: make([]int, nf+1), seen: make([]int64, nf), apps: make([]jsonAppender, nf)}
	var text, compact []byte
	for j := range cs.cols {
		c := &cs.cols[j]
		d.keys[j] = newKeyMatch(c.field.Name)
		d.index[c.field.Name] = j
		d.succ[j] = j
		if c.kind == colGeneric || isNestedJSONType(c.field.Type) {
			// Scratch buffers for these are only used by one value at a
			// time, inside the appender.
			if d.apps[j] = newJSONAppender(c.bld, c.field.Type, &text, &compact); d.apps[j] == nil {
				return nil, dataErrf(jr.name, 0, c.field.Name, "type %s cannot be read from JSON", c.field.Type)
			}
		}
	}
	d.succ[nf] = nf
	return d, nil
}

// run decodes every remaining object.
func (d *jsonDecoder) run(ctx context.Context, emit func(arrow.RecordBatch) error) error {
	jr := d.jr
	for iter := 0; ; iter++ {
		if iter&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := jr.start(); err != nil {
			if err == io.EOF {
				return nil
			}
			if err := d.skipBad(err); err != nil {
				return err
			}
			continue
		}
		d.cs.room()
		ok, err := d.next()
		if err != nil {
			return err
		}
		if !ok {
			continue // rejected
		}
		if err := d.cs.rowDone(ctx, emit); err != nil {
			return err
		}
	}
}

// next decodes the object at jr.pos into row cs.n, reading more input
// as needed; false when the object was rejected instead.
func (d *jsonDecoder) next() (bool, error) {
	jr := d.jr
	for {
		end, pos, fail, err := d.object(jr.data(), jr.pos, jr.objLine)
		if err != nil {
			if d.onReject == nil {
				return false, err
			}
			// A value that cannot load: skip the object, once its end is
			// found (it may be malformed further on, which wins).
			if end, fail = skipValue(jr.data(), jr.pos, 0); fail == jsonOK {
				if err := d.rejectValue(err, jr.objLine(), jr.buf[jr.pos:end]); err != nil {
					return false, err
				}
				jr.consume(end)
				return false, nil
			}
			pos = end
		}
		if fail == jsonOK {
			jr.consume(end)
			return true, nil
		}
		if err := jr.failed(pos, fail); err != errNeedMore {
			return false, d.skipBad(err)
		}
		if err := jr.fill(); err != nil {
			return false, err
		}
	}
}

// rejectValue rejects the whole object raw, at line, whose value (or
// key) err refused, or returns err when rows are not rejected.
func (d *jsonDecoder) rejectValue(err error, line int64, raw []byte) error {
	var de *DataError
	if d.onReject == nil || !errors.As(err, &de) {
		return err
	}
	return d.cs.rejectRow(d.onReject, Reject{Line: line, Column: de.Column, Class: rejectClass(err), Raw: rowText(raw), Err: err})
}

// skipBad rejects the malformed object err is about and resumes at the
// next line, when rows are rejected and that is possible (JSON lines, not
// the end of the file); otherwise it returns err.
func (d *jsonDecoder) skipBad(err error) error {
	jr := d.jr
	if d.onReject == nil || jr.bad == "" {
		return err
	}
	line, class := jr.objLine(), jr.bad
	raw, serr := jr.skipLine(d.raw[:0])
	d.raw = raw
	if serr != nil {
		return serr
	}
	return d.cs.rejectRow(d.onReject, Reject{Line: line, Class: class, Raw: raw, Err: err})
}

// object parses the object at b[p] == '{' into row cs.n and returns its
// end. A JSON failure comes back as its position and kind; err is a value
// that does not fit its column, a duplicate or unknown key, at the object's
// line (asked only then: see jsonReader.line).
func (d *jsonDecoder) object(b []byte, p int, line func() int64) (end, pos int, fail jsonFail, err error) {
	cs := d.cs
	n := cs.n
	d.stamp++
	d.later = d.later[:0]
	prev := -1
	met := 0 // distinct keys met: a row with every column needs no look for missing ones
	p = skipSpace(b, p+1)
	if p < len(b) && b[p] == '}' {
		p++
	} else {
		for {
			if p >= len(b) || b[p] != '"' {
				return 0, p, jsonSyntax, nil
			}
			// Keys mostly come in the order of the row before: the
			// expected one is compared in place, and only another key is
			// scanned (and unescaped) and looked up.
			j := d.succ[prev+1]
			var kEnd int
			if j < len(d.keys) && d.keys[j].at(b, p) {
				kEnd = p + len(d.keys[j].name) + 2
			} else {
				var esc bool
				var f jsonFail
				if kEnd, esc, f = scanString(b, p); f != jsonOK {
					return 0, kEnd, f, nil
				}
				key := b[p+1 : kEnd-1]
				if esc {
					d.key = appendUnescaped(d.key[:0], key)
					key = d.key
				}
				if j >= len(d.keys) || string(key) != d.keys[j].name {
					var ok bool
					if j, ok = d.index[string(key)]; !ok {
						return 0, 0, 0, dataErr(d.jr.name, line(), string(key), errUnknownKey)
					}
					d.succ[prev+1] = j
				}
			}
			prev = j
			if d.seen[j] == d.stamp {
				return 0, 0, 0, dataErr(d.jr.name, line(), d.keys[j].name, errDuplicateKey)
			}
			d.seen[j] = d.stamp
			met++
			p = skipSpace(b, kEnd)
			if p >= len(b) || b[p] != ':' {
				return 0, p, jsonSyntax, nil
			}
			p = skipSpace(b, p+1)
			var verr error
			if p, fail, verr = d.value(b, p, j, n); fail != jsonOK {
				return 0, p, fail, nil
			}
			if verr != nil {
				return 0, 0, 0, dataErr(d.jr.name, line(), d.keys[j].name, verr)
			}
			p = skipSpace(b, p)
			if p >= len(b) {
				return 0, p, jsonSyntax, nil
			}
			if b[p] == ',' {
				p = skipSpace(b, p+1)
				continue
			}
			if b[p] != '}' {
				return 0, p, jsonSyntax, nil
			}
			p++
			break
		}
	}
	for _, l := range d.later {
		if l.kind == jsonNull {
			cs.cols[l.col].bld.AppendNull()
			continue
		}
		if err := d.apps[l.col](l.kind, b[l.start:l.end]); err != nil {
			return 0, 0, 0, dataErr(d.jr.name, line(), d.keys[l.col].name, err)
		}
	}
	if met == len(d.seen) {
		return p, 0, jsonOK, nil
	}
	for j := range d.seen {
		if d.seen[j] != d.stamp {
			c := &cs.cols[j]
			if !c.field.Nullable {
				return 0, 0, 0, dataErr(d.jr.name, line(), d.keys[j].name, errMissingValue)
			}
			c.setNull(n)
		}
	}
	return p, 0, jsonOK, nil
}

// value parses the value at b[p] into column j, row n.
func (d *jsonDecoder) value(b []byte, p, j, n int) (int, jsonFail, error) {
	c := &d.cs.cols[j]
	if p >= len(b) {
		return p, jsonSyntax, nil
	}
	var kind jsonKind
	start := p
	switch ch := b[p]; {
	case ch == '"':
		end, esc, fail := scanString(b, p)
		if fail != jsonOK {
			return end, fail, nil
		}
		if d.apps[j] != nil {
			return end, jsonOK, d.defer_(j, jsonString, start, end)
		}
		s := b[p+1 : end-1]
		if esc {
			d.text = appendUnescaped(d.text[:0], s)
			s = d.text
		}
		switch c.kind {
		case colString, colBinary:
			if c.setStr(n, s) > d.cs.strLimit {
				d.cs.full = true
			}
			return end, jsonOK, nil
		case colTimestamp:
			// A column with a format or zone reads only by its style.
			if sec, nsec, q, ok := scanTimestamp(s, 0, &c.date); c.style == nil && ok && q == len(s) {
				if ts, err := timestampIn(sec, nsec, c.unit); err == nil {
					c.i64[n] = ts
					return end, jsonOK, nil
				}
			}
			return end, jsonOK, d.cs.put(c, n, s, true)
		case colDate32:
			return end, jsonOK, d.cs.put(c, n, s, true)
		}
		return end, jsonOK, conflict(c, jsonString, b[start:end])
	case ch == 'n':
		end, fail := scanLiteral(b, p, "null")
		if fail != jsonOK {
			return end, fail, nil
		}
		if !c.field.Nullable {
			return end, jsonOK, errNonNullable
		}
		if d.apps[j] != nil {
			return end, jsonOK, d.defer_(j, jsonNull, start, end)
		}
		c.setNull(n)
		return end, jsonOK, nil
	case ch == 't' || ch == 'f':
		word := "true"
		if ch == 'f' {
			word = "false"
		}
		end, fail := scanLiteral(b, p, word)
		if fail != jsonOK {
			return end, fail, nil
		}
		if d.apps[j] != nil {
			return end, jsonOK, d.defer_(j, jsonBool, start, end)
		}
		switch c.kind {
		case colBool:
			c.setBool(n, ch == 't')
			return end, jsonOK, nil
		case colString:
			return end, jsonOK, d.cs.put(c, n, b[start:end], true)
		}
		return end, jsonOK, conflict(c, jsonBool, b[start:end])
	case ch == '{' || ch == '[':
		kind = jsonObject
		if ch == '[' {
			kind = jsonArray
		}
		end, fail := skipValue(b, p, 0)
		if fail != jsonOK {
			return end, fail, nil
		}
		if d.apps[j] != nil {
			return end, jsonOK, d.defer_(j, kind, start, end)
		}
		if c.kind == colString {
			d.cmp.Reset()
			if err := json.Compact(&d.cmp, b[start:end]); err != nil {
				return end, jsonOK, err
			}
			return end, jsonOK, d.cs.put(c, n, d.cmp.Bytes(), true)
		}
		return end, jsonOK, conflict(c, kind, b[start:end])
	}
	if c.kind == colFloat64 { // never a builder column (apps)
		if f, end, ok := scanJSONFloat(b, p); ok {
			c.f64[n] = f
			return end, jsonOK, nil
		}
	}
	end, v, isInt, fail := scanNumber(b, p)
	if fail != jsonOK {
		return end, fail, nil
	}
	if d.apps[j] != nil {
		return end, jsonOK, d.defer_(j, jsonNumber, start, end)
	}
	switch c.kind {
	case colInt64:
		if isInt {
			c.i64[n] = v
			return end, jsonOK, nil
		}
	case colFloat64:
		if f, q, ok := scanFloat(b, p); ok && q == end {
			c.f64[n] = f
			return end, jsonOK, nil
		}
	case colString:
	default:
		return end, jsonOK, conflict(c, jsonNumber, b[start:end])
	}
	return end, jsonOK, d.cs.put(c, n, b[start:end], true)
}

// defer_ keeps a builder column's value for when the object is whole.
func (d *jsonDecoder) defer_(j int, kind jsonKind, start, end int) error {
	d.later = append(d.later, jsonLater{col: j, kind: kind, start: start, end: end})
	return nil
}

// conflict is the error for a JSON value of a kind the column cannot hold.
func conflict(c *column, kind jsonKind, raw []byte) error {
	return fmt.Errorf("expected %s, found %s %s", c.field.Type, kind, clip(raw))
}
