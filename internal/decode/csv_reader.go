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

// clone copies r for keeping past the next read.
func (r *csvRecord) clone() csvRecord {
	return csvRecord{
		buf:    bytes.Clone(r.buf),
		ends:   append([]int(nil), r.ends...),
		quoted: append([]bool(nil), r.quoted...),
		line:   r.line,
	}
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
	name  string
	delim byte
	quote byte
	line  int64 // lines consumed so far
	rec   csvRecord
	began bool // the BOM check has been done
}

func newCSVReader(r io.Reader, name string, delim, quote byte) *csvReader {
	return &csvReader{window: window{src: r, pad: csvPad}, name: name, delim: delim, quote: quote}
}

// fill reads more, and strips a BOM at the start of the stream.
func (c *csvReader) fill() error {
	err := c.window.fill(func() error {
		return dataErrf(c.name, c.line+1, "", "record longer than %d bytes", maxRecordBytes)
	})
	if err != nil {
		return err
	}
	if !c.began && (c.end >= len(utf8BOM) || c.eof) {
		c.began = true
		if bytes.HasPrefix(c.buf[c.pos:c.end], utf8BOM) {
			c.pos += len(utf8BOM)
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
		err := c.parseRecord()
		if err != errNeedMore {
			if err != nil {
				return nil, err
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
	// Skip blank lines.
	for {
		nl := bytes.IndexByte(b[p:], '\n')
		if nl < 0 {
			if !c.eof {
				c.pos = p
				return errNeedMore
			}
			if p == len(b) {
				c.pos = p
				return io.EOF
			}
			break
		}
		if nl > 1 || nl == 1 && b[p] != '\r' {
			break
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
		if p < len(b) && b[p] == c.quote {
			// Quoted field: may span lines; a doubled quote is a literal one.
			p++
			for {
				i := bytes.IndexByte(b[p:], c.quote)
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
				if p < len(b) && b[p] == c.quote {
					rec.buf = append(rec.buf, c.quote)
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
	c.pos = p
	c.line = cur
	return nil
}

// fieldCountErr is the error for a ragged row.
func fieldCountErr(name string, rec *csvRecord, want int) error {
	return dataErr(name, rec.line, "", fmt.Errorf("expected %d fields, found %d", want, rec.len()))
}
