package decode

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
)

// csvDecoder decodes the records of a csvReader into columns. Most rows
// take the fast path: decoded where they lie in the reader's buffer, each
// value parsed while its end is found, written straight into the batch.
// A row the fast path does not handle (a field that starts with a quote,
// a value in a form its scanners do not take, anything wrong) is decoded
// again from its start by the general path, csvReader.next and
// columns.put, which also produces every error.
type csvDecoder struct {
	cr     *csvReader
	cs     *columns
	fcols  []*column // file column i → its column
	ops    []fieldOp // how the fast path reads file column i
	fast   bool      // the fast path may run
	delims uint64    // the delimiter in every byte, for scanText
	lim    int       // cr.buf[:lim] ends with '\n': rows before it are whole
	limOf  int       // the cr.fills lim was computed after, plus one
	// onlyEmptyNull: the null values are just "", the default.
	onlyEmptyNull bool
	// trailing: every row's last column ends with a delimiter, then the
	// line end (the header did).
	trailing bool
	// onReject, when set, takes the rows putRecord refuses (reject.go).
	onReject func(Reject) error
}

// fieldOp is how the fast path reads one field of a row.
type fieldOp struct {
	c    *column
	scan colKind // c's kind when its value scanner may run, else colGeneric
	term byte    // what ends the field: the delimiter, or '\n' for the last
	last bool
}

// end checks that a value ending at b[q] ends its field, and returns where
// the next field or row starts.
func (op *fieldOp) end(b []byte, q int) (int, bool) {
	if q < len(b) {
		if b[q] == op.term {
			return q + 1, true
		}
		if op.last && b[q] == '\r' && q+1 < len(b) && b[q+1] == '\n' {
			return q + 2, true
		}
	}
	return q, false
}

// rowStatus is what the fast path did with a row.
type rowStatus uint8

const (
	rowDone  rowStatus = iota // decoded
	rowBlank                  // a blank line, skipped
	rowSlow                   // to decode with the general path
)

// fusedUnsafe are the bytes the value scanners consume: with such a
// delimiter a value could run into the next field.
const fusedUnsafe = "0123456789+-.:eEtTzZ "

func newCSVDecoder(cr *csvReader, cs *columns, colMap []int, generalOnly bool) *csvDecoder {
	d := &csvDecoder{cr: cr, cs: cs, fcols: make([]*column, len(colMap)), fast: !generalOnly,
		delims: swarLo * uint64(cr.delim), onlyEmptyNull: len(cs.nulls) == 1 && cs.nulls[0] == "",
		trailing: cr.trailing}
	for i, j := range colMap {
		d.fcols[i] = &cs.cols[j]
	}
	safeDelim := cr.delim < 0x80 && !strings.ContainsRune(fusedUnsafe, rune(cr.delim)) &&
		(cr.delim < 'a' || cr.delim > 'z') && (cr.delim < 'A' || cr.delim > 'Z')
	for j := range cs.cols {
		c := &cs.cols[j]
		if c.kind == colGeneric {
			// A builder cannot take back a value: such rows must be
			// decoded once, by the general path.
			d.fast = false
		}
		// A column with a style is parsed by columns.put, the general
		// path's parser, so the two paths agree.
		c.fused = safeDelim && !d.scansNull(c) && c.style == nil
	}
	d.ops = make([]fieldOp, len(colMap))
	for i, c := range d.fcols {
		op := fieldOp{c: c, term: cr.delim, last: i == len(colMap)-1 && !cr.trailing}
		if op.last {
			op.term = '\n'
		}
		if c.fused {
			op.scan = c.kind
		}
		d.ops[i] = op
	}
	return d
}

// scansNull reports whether c's value scanner would take one of the null
// values as a value, which would hide the null.
func (d *csvDecoder) scansNull(c *column) bool {
	var dc dateCache
	for _, v := range d.cs.nulls {
		b := []byte(v + "\n")
		var q int
		ok := false
		switch c.kind {
		case colInt64:
			_, q, ok = scanInt(b, 0)
		case colFloat64:
			_, q, ok = scanFloat(b, 0)
		case colBool:
			_, q, ok = scanBool(b, 0)
		case colDate32:
			_, q, ok = scanDate(b, 0, &dc)
		case colTimestamp:
			_, _, q, ok = scanTimestamp(b, 0, &dc)
		}
		if ok && q == len(v) {
			return true
		}
	}
	return false
}

// run decodes every remaining record.
func (d *csvDecoder) run(ctx context.Context, emit func(arrow.RecordBatch) error) error {
	cr, cs := d.cr, d.cs
	for iter := 0; ; iter++ {
		if iter&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		cs.room()
		if d.fast && cr.began && cr.skip == 0 {
			if d.limOf != cr.fills+1 {
				d.limOf = cr.fills + 1
				d.lim = bytes.LastIndexByte(cr.buf[:cr.end], '\n') + 1
			}
			// Whole rows, as many as the batch has room for, until one
			// needs the general path.
			b, p, n, lines := cr.buf[:cr.end], cr.pos, cs.n, int64(0)
			stop := min(cs.cap, cs.limit)
			for p < d.lim && n < stop && !cs.full {
				next, st := d.fastRow(b, p, n)
				if st == rowSlow {
					break
				}
				if st == rowDone {
					n++
				}
				p = next
				lines++
			}
			if p != cr.pos {
				cr.pos, cr.line, cs.n = p, cr.line+lines, n
				if cs.n >= cs.limit || cs.full {
					if err := cs.flush(ctx, emit); err != nil {
						return err
					}
				}
				if err := ctx.Err(); err != nil {
					return err
				}
				continue
			}
		}
		rec, err := cr.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := d.putRecord(rec); err != nil {
			if err := d.reject(rec, err); err != nil {
				return err
			}
			continue
		}
		if err := cs.rowDone(ctx, emit); err != nil {
			return err
		}
	}
}

// reject skips the record putRecord refused with err and reports it, or
// returns err when bad rows fail the file. The fast path never decides a
// row is bad (it hands it here), so both paths reject the same rows.
func (d *csvDecoder) reject(rec *csvRecord, err error) error {
	if d.onReject == nil {
		return err
	}
	var de *DataError
	if !errors.As(err, &de) {
		return err
	}
	class := rejectClass(err)
	switch {
	case rec.len() < len(d.fcols):
		class = RejectMissingColumns
	case rec.len() > len(d.fcols):
		class = RejectTooManyColumns
	}
	return d.cs.rejectRow(d.onReject, Reject{Line: rec.line, Column: de.Column, Class: class, Raw: rowText(rec.raw), Err: err})
}

// putRecord decodes one record with the general path.
func (d *csvDecoder) putRecord(rec *csvRecord) error {
	if rec.len() != len(d.fcols) {
		return fieldCountErr(d.cr.name, rec, len(d.fcols))
	}
	for i, c := range d.fcols {
		if err := d.cs.put(c, d.cs.n, rec.field(i), rec.quoted[i]); err != nil {
			return dataErr(d.cr.name, rec.line, c.field.Name, err)
		}
	}
	return nil
}

// fastRow decodes the row at b[p] into row n. The caller ensures a '\n'
// follows p within b.
func (d *csvDecoder) fastRow(b []byte, p, n int) (int, rowStatus) {
	if b[p] == '\n' {
		return p + 1, rowBlank
	}
	if b[p] == '\r' && b[p+1] == '\n' {
		return p + 2, rowBlank
	}
	if int(b[p]) == d.cr.comment {
		return p + bytes.IndexByte(b[p:], '\n') + 1, rowBlank
	}
	for i := range d.ops {
		op := &d.ops[i]
		c := op.c
		// The value is parsed as its end is found, where the column's
		// scanner may run and takes it.
		switch op.scan {
		case colInt64:
			if v, q, ok := scanInt(b, p); ok {
				if next, ok := op.end(b, q); ok {
					c.i64[n] = v
					p = next
					continue
				}
			}
		case colFloat64:
			if v, q, ok := scanFloat(b, p); ok {
				if next, ok := op.end(b, q); ok {
					c.f64[n] = v
					p = next
					continue
				}
			}
		case colTimestamp:
			if sec, nsec, q, ok := scanTimestamp(b, p, &c.date); ok {
				if next, ok := op.end(b, q); ok {
					if ts, err := timestampIn(sec, nsec, c.unit); err == nil {
						c.i64[n] = ts
						p = next
						continue
					}
				}
			}
		case colBool:
			if v, q, ok := scanBool(b, p); ok {
				if next, ok := op.end(b, q); ok {
					c.setBool(n, v)
					p = next
					continue
				}
			}
		case colDate32:
			if v, q, ok := scanDate(b, p, &c.date); ok {
				if next, ok := op.end(b, q); ok {
					c.i32[n] = v
					p = next
					continue
				}
			}
		}
		// Find the field's end, then parse it.
		if int(b[p]) == d.cr.quote {
			return p, rowSlow
		}
		end, ascii := scanText(b, p, d.delims)
		if end >= len(b) || b[end] != op.term {
			return p, rowSlow // fewer or more fields than columns
		}
		next := end + 1
		if op.last && end > p && b[end-1] == '\r' {
			end--
		}
		f := b[p:end]
		if c.kind == colString || c.kind == colBinary {
			null := len(f) == 0
			if !d.onlyEmptyNull {
				null = isNull(f, d.cs.nulls)
			}
			switch {
			case null:
				if !c.field.Nullable {
					return p, rowSlow
				}
				c.setNull(n)
			case c.kind == colString && !ascii && !utf8.Valid(f):
				return p, rowSlow
			case len(f) <= 16 && p+16 <= len(b):
				c.setShort(n, b[p:p+16], len(f))
			default:
				if c.setStr(n, f) > d.cs.strLimit {
					d.cs.full = true
				}
			}
		} else if d.cs.put(c, n, f, false) != nil {
			return p, rowSlow
		}
		p = next
	}
	if d.trailing {
		switch {
		case b[p] == '\n':
			p++
		case b[p] == '\r' && b[p+1] == '\n':
			p += 2
		default:
			return p, rowSlow
		}
	}
	return p, rowDone
}
