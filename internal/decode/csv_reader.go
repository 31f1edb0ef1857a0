package decode

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

var utf8BOM = []byte("\xEF\xBB\xBF")

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
// error. It reuses its buffers: a record is valid until the next read.
type csvReader struct {
	r      *bufio.Reader
	name   string
	delim  byte
	quote  byte
	line   int64 // lines consumed so far
	rec    csvRecord
	long   []byte // assembles a line longer than r's buffer
	bomOff bool   // the BOM check has been done
}

func newCSVReader(r *bufio.Reader, name string, delim, quote byte) *csvReader {
	return &csvReader{r: r, name: name, delim: delim, quote: quote}
}

// readLine returns the next physical line including its '\n' (absent only
// at the end of the stream), or io.EOF when there is none.
func (c *csvReader) readLine() ([]byte, error) {
	line, err := c.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		c.long = append(c.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			if len(c.long) > maxRecordBytes {
				return nil, dataErrf(c.name, c.line+1, "", "line longer than %d bytes", maxRecordBytes)
			}
			line, err = c.r.ReadSlice('\n')
			c.long = append(c.long, line...)
		}
		line = c.long
	}
	if err == io.EOF {
		if len(line) == 0 {
			return nil, io.EOF
		}
		err = nil
	}
	if err != nil {
		return nil, err
	}
	c.line++
	if !c.bomOff {
		c.bomOff = true
		line = bytes.TrimPrefix(line, utf8BOM)
	}
	return line, nil
}

// lineEnd is the length of line without its "\n" or "\r\n".
func lineEnd(line []byte) int {
	n := len(line)
	if n > 0 && line[n-1] == '\n' {
		n--
		if n > 0 && line[n-1] == '\r' {
			n--
		}
	}
	return n
}

// next reads the next record into c.rec; io.EOF means no more records.
func (c *csvReader) next() (*csvRecord, error) {
	rec := &c.rec
	rec.reset()
	var line []byte
	for {
		var err error
		if line, err = c.readLine(); err != nil {
			return nil, err
		}
		if lineEnd(line) > 0 {
			break
		}
	}
	rec.line = c.line
	pos := 0
	for {
		end := lineEnd(line)
		if pos < end && line[pos] == c.quote {
			// Quoted field: may span lines, "" is a literal quote.
			pos++
			for {
				end = lineEnd(line)
				i := bytes.IndexByte(line[pos:end], c.quote)
				if i < 0 {
					// The field goes on past this line, newline included.
					rec.buf = append(rec.buf, line[pos:]...)
					if len(rec.buf) > maxRecordBytes {
						return nil, dataErrf(c.name, rec.line, "", "record longer than %d bytes", maxRecordBytes)
					}
					var err error
					if line, err = c.readLine(); err != nil {
						if err == io.EOF {
							return nil, dataErrf(c.name, rec.line, "", "quoted field not closed before the end of the file")
						}
						return nil, err
					}
					pos = 0
					continue
				}
				rec.buf = append(rec.buf, line[pos:pos+i]...)
				pos += i + 1
				if pos < end && line[pos] == c.quote {
					rec.buf = append(rec.buf, c.quote)
					pos++
					continue
				}
				break
			}
			rec.ends = append(rec.ends, len(rec.buf))
			rec.quoted = append(rec.quoted, true)
			if pos >= end {
				return rec, nil
			}
			if line[pos] != c.delim {
				return nil, dataErrf(c.name, c.line, "", "unexpected %q after closing quote of field %d", line[pos], len(rec.ends))
			}
			pos++
			continue
		}
		i := bytes.IndexByte(line[pos:end], c.delim)
		if i < 0 {
			rec.buf = append(rec.buf, line[pos:end]...)
			rec.ends = append(rec.ends, len(rec.buf))
			rec.quoted = append(rec.quoted, false)
			return rec, nil
		}
		rec.buf = append(rec.buf, line[pos:pos+i]...)
		rec.ends = append(rec.ends, len(rec.buf))
		rec.quoted = append(rec.quoted, false)
		pos += i + 1
	}
}

// fieldCountErr is the error for a ragged row.
func fieldCountErr(name string, rec *csvRecord, want int) error {
	return dataErr(name, rec.line, "", fmt.Errorf("expected %d fields, found %d", want, rec.len()))
}
