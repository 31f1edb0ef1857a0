package decode

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

var utf8BOM = []byte("\xEF\xBB\xBF")

// csvPad is slack past the data in the buffer, so the field scanner
// may load 8 bytes at a time near the end.
const csvPad = 8

// errNeedMore says a record runs past the buffered data and more may come.
var errNeedMore = errors.New("need more input")

// csvRecord is one parsed record: field i is buf[start(i):ends[i]].
type csvRecord struct {
	buf    []byte
	ends   []int
	quoted []bool // quoted fields are never null
	line   int64  // the physical line the record starts on, from 1
	// raw is the record's text in the reader's buffer, line end included
	// (a clone keeps rowText of it, when asked).
	raw []byte
}

func (r *csvRecord) len() int { return len(r.ends) }

func (r *csvRecord) field(i int) []byte {
	start := 0
	if i > 0 {
		start = r.ends[i-1]
	}
	return r.buf[start:r.ends[i]]
}

func (r *csvRecord) reset() {
	r.buf, r.ends, r.quoted = r.buf[:0], r.ends[:0], r.quoted[:0]
}

// clone copies r for keeping past the next read; raw says whether to keep
// its text too, for a Reject.
func (r *csvRecord) clone(raw bool) csvRecord {
	k := csvRecord{
		buf:    bytes.Clone(r.buf),
		ends:   append([]int(nil), r.ends...),
		quoted: append([]bool(nil), r.quoted...),
		line:   r.line,
	}
	if raw {
		k.raw = bytes.Clone(rowText(r.raw))
	}
	return k
}

// csvReader splits a stream into records. It is a small RFC 4180 reader
// with a configurable quote byte, line numbers for every record, a stripped
// UTF-8 BOM, CRLF or LF line ends, and blank lines skipped. A quote inside
// an unquoted field is taken literally; text after a closing quote is an
// error. At the end of the stream a last line needs no line end (and
// keeps a trailing '\r', as it is not part of a CRLF).
//
// It reads into its own buffer, which holds whole records (growing for a
// long one, up to maxRecordBytes), so the fast path in csv_fast.go can
// decode rows where they lie; next is the general path, which copies a
// record's fields out. A record from next is valid until the next read.
type csvReader struct {
	window
	name    string
	delim   byte
	quote   int   // -1: quoting off
	escape  int   // -1: none
	comment int   // -1: none
	skip    int   // lines still to drop before the first record
	line    int64 // lines consumed so far
	rec     csvRecord
	began   bool // the BOM check has been done
	// trailing: the header ends with a delimiter, so a record's extra
	// empty last field is dropped.
	trailing bool
	// crDecided and crOnly: whether the stream's line ends are bare CRs
	// (old Mac files), which are then read as '\n'.
	crDecided, crOnly bool
}

// csvDialect is how a CSV file quotes, escapes and comments; -1 means off.
type csvDialect struct {
	quote, escape, comment int
	skip                   int // lines dropped before the header
}

func newCSVReader(r io.Reader, name string, delim byte, d csvDialect) *csvReader {
	return &csvReader{window: window{src: r, pad: csvPad}, name: name, delim: delim,
		quote: d.quote, escape: d.escape, comment: d.comment, skip: d.skip}
}

// fill reads more, strips a BOM at the start of the stream, and turns
// bare-CR line ends into '\n'.
func (c *csvReader) fill() error {
	kept := c.end - c.pos // where the new bytes will start
	err := c.window.fill(func() error {
		return dataErrf(c.name, c.line+1, "", "record longer than %d bytes", maxRecordBytes)
	})
	if err != nil {
		return err
	}
	if !c.crDecided {
		if c.decideCR(); c.crOnly {
			kept = c.pos // the undecided bytes too
		}
	}
	if c.crOnly {
		for i, ch := range c.buf[kept:c.end] {
			if ch == '\r' {
				c.buf[kept+i] = '\n'
			}
		}
	}
	if !c.began && (c.end >= len(utf8BOM) || c.eof) {
		c.began = true
		if bytes.HasPrefix(c.buf[c.pos:c.end], utf8BOM) {
			c.pos += len(utf8BOM)
		}
	}
	return nil
}

// decideCR looks at the buffered start of the stream: a file whose lines
// end in bare CRs has a '\r' followed by something other than '\n' and no
// '\n' at all. Without a line end yet (a long first line) it decides later.
func (c *csvReader) decideCR() {
	b := c.buf[c.pos:c.end]
	if bytes.IndexByte(b, '\n') >= 0 {
		c.crDecided = true
		return
	}
	i := bytes.IndexByte(b, '\r')
	if i >= 0 && (i+1 < len(b) || c.eof) {
		c.crDecided, c.crOnly = true, true
		return
	}
	c.crDecided = c.eof
}

// skipLines drops the lines SkipRows asks for, as they are.
func (c *csvReader) skipLines() error {
	for c.skip > 0 {
		if i := bytes.IndexByte(c.buf[c.pos:c.end], '\n'); i >= 0 {
			c.pos += i + 1
			c.line++
			c.skip--
			continue
		}
		if c.eof {
			c.pos, c.skip = c.end, 0
			return nil
		}
		c.pos = c.end // a long skipped line need not be kept
		if err := c.fill(); err != nil {
			return err
		}
	}
	return nil
}

// next reads the next record into c.rec; io.EOF means no more records.
func (c *csvReader) next() (*csvRecord, error) {
	for {
		if !c.began {
			if err := c.fill(); err != nil {
				return nil, err
			}
			continue
		}
		if c.skip > 0 {
			if err := c.skipLines(); err != nil {
				return nil, err
			}
		}
		err := c.parseRecord()
		if err != errNeedMore {
			if err != nil {
				return nil, err
			}
			if c.trailing {
				c.rec.dropTrailing()
			}
			return &c.rec, nil
		}
		if err := c.fill(); err != nil {
			return nil, err
		}
	}
}

// parseRecord parses the record at c.pos into c.rec and consumes it, or
// returns errNeedMore (consuming at most blank lines) when it runs past the
// buffered data before the end of the stream.
func (c *csvReader) parseRecord() error {
	b := c.buf[:c.end]
	p := c.pos
	// Skip blank lines and comment lines.
	for {
		nl := bytes.IndexByte(b[p:], '\n')
		if nl < 0 {
			if !c.eof {
				c.pos = p
				return errNeedMore
			}
			if p == len(b) || int(b[p]) == c.comment {
				c.pos = len(b)
				return io.EOF
			}
			break
		}
		if nl > 1 || nl == 1 && b[p] != '\r' {
			if int(b[p]) != c.comment {
				break
			}
		}
		p += nl + 1
		c.line++
	}
	c.pos = p
	rec := &c.rec
	rec.reset()
	rec.line = c.line + 1
	cur := rec.line // the physical line p is on
	for {
		if p < len(b) && int(b[p]) == c.quote {
			// Quoted field: may span lines; a doubled quote is a literal one.
			quote := byte(c.quote)
			p++
			for {
				i := bytes.IndexByte(b[p:], quote)
				if c.escape >= 0 {
					if p = c.unescape(b, p, i, &cur); p < 0 {
						if !c.eof {
							return errNeedMore
						}
						return dataErrf(c.name, rec.line, "", "quoted field not closed before the end of the file")
					}
					i = bytes.IndexByte(b[p:], quote)
				}
				if i < 0 {
					if !c.eof {
						return errNeedMore
					}
					return dataErrf(c.name, rec.line, "", "quoted field not closed before the end of the file")
				}
				seg := b[p : p+i]
				cur += int64(bytes.Count(seg, []byte{'\n'}))
				rec.buf = append(rec.buf, seg...)
				p += i + 1
				if p == len(b) && !c.eof {
					return errNeedMore // a doubled quote may follow
				}
				if p < len(b) && b[p] == quote {
					rec.buf = append(rec.buf, quote)
					p++
					continue
				}
				break
			}
			rec.ends = append(rec.ends, len(rec.buf))
			rec.quoted = append(rec.quoted, true)
			switch {
			case p == len(b): // the end of the stream
			case b[p] == '\n':
				p++
			case b[p] == '\r' && p+1 == len(b) && !c.eof:
				return errNeedMore
			case b[p] == '\r' && p+1 < len(b) && b[p+1] == '\n':
				p += 2
			case b[p] == c.delim:
				p++
				continue
			default:
				return dataErrf(c.name, cur, "", "unexpected %q after closing quote of field %d", b[p], len(rec.ends))
			}
			break
		}
		// Unquoted field: up to the delimiter or the end of the line.
		le, next := len(b), len(b)
		if nl := bytes.IndexByte(b[p:], '\n'); nl >= 0 {
			le, next = p+nl, p+nl+1
			if le > p && b[le-1] == '\r' {
				le--
			}
		} else if !c.eof {
			return errNeedMore
		}
		if i := bytes.IndexByte(b[p:le], c.delim); i >= 0 {
			rec.buf = append(rec.buf, b[p:p+i]...)
			rec.ends = append(rec.ends, len(rec.buf))
			rec.quoted = append(rec.quoted, false)
			p += i + 1
			continue
		}
		rec.buf = append(rec.buf, b[p:le]...)
		rec.ends = append(rec.ends, len(rec.buf))
		rec.quoted = append(rec.quoted, false)
		p = next
		break
	}
	if len(rec.buf) > maxRecordBytes {
		return dataErrf(c.name, rec.line, "", "record longer than %d bytes", maxRecordBytes)
	}
	rec.raw = b[c.pos:p]
	c.pos = p
	c.line = cur
	return nil
}

// unescape copies the escaped stretches of a quoted field at b[p:] into
// c.rec up to the field's next quote that is not escaped, and returns
// where that stretch ends; i is the index of the next quote in b[p:], or
// -1. An escape takes the quote or itself literally; before anything else
// it is kept as it is. -1 means the buffer ends inside the field.
func (c *csvReader) unescape(b []byte, p, i int, cur *int64) int {
	esc := byte(c.escape)
	for {
		limit := len(b)
		if i >= 0 {
			limit = p + i
		}
		j := bytes.IndexByte(b[p:limit], esc)
		if j < 0 {
			return p
		}
		seg := b[p : p+j]
		*cur += int64(bytes.Count(seg, []byte{'\n'}))
		c.rec.buf = append(c.rec.buf, seg...)
		p += j + 1
		if p >= len(b) {
			return -1
		}
		if nb := b[p]; int(nb) == c.quote || nb == esc {
			c.rec.buf = append(c.rec.buf, nb)
			p++
		} else {
			c.rec.buf = append(c.rec.buf, esc)
		}
		i = bytes.IndexByte(b[p:], byte(c.quote))
	}
}

// dropTrailing drops an empty, unquoted last field: the one a delimiter
// at the end of a line makes.
func (r *csvRecord) dropTrailing() {
	if n := len(r.ends); n >= 2 && !r.quoted[n-1] && r.ends[n-1] == r.ends[n-2] {
		r.ends, r.quoted = r.ends[:n-1], r.quoted[:n-1]
	}
}

// fieldCountErr is the error for a ragged row.
func fieldCountErr(name string, rec *csvRecord, want int) error {
	return dataErr(name, rec.line, "", fmt.Errorf("expected %d fields, found %d", want, rec.len()))
}
