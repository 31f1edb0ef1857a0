package decode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// jsonReader frames a stream into its top-level JSON objects: JSON lines
// (or any whitespace-separated objects), or the elements of one top-level
// array, told apart by the first non-space byte. It reads into its own
// buffer, which holds whole objects (growing for a long one, up to
// maxRecordBytes) followed by jsonPad zero bytes, so objects are parsed
// where they lie.
type jsonReader struct {
	window
	name string
	// Lines are counted when an error or a reject asks for one, and in
	// bulk before fill drops the bytes they are in: counting each object's
	// newlines as it was consumed was 4% of a JSON lines load.
	line    int64 // line of buf[linePos], from 1
	linePos int
	began   bool // the BOM and the first byte have been looked at
	array   bool // inside a top-level array
	closed  bool // the top-level array's ']' was read
	elems   int  // objects read
	// bad is the Reject class of the last error from start or failed
	// when it is about one JSON lines object alone, which skipLine can
	// pass over; "" for any other error.
	bad string
}

func newJSONReader(r io.Reader, name string) *jsonReader {
	return &jsonReader{window: window{src: r, pad: jsonPad}, name: name, line: 1}
}

// fill reads more input; the bytes before pos may go, so their lines are
// counted first.
func (j *jsonReader) fill() error {
	line := j.lineAt(j.pos)
	err := j.window.fill(func() error {
		return dataErrf(j.name, line, "", "JSON object longer than %d bytes", maxRecordBytes)
	})
	j.linePos = j.pos // where the bytes at the old pos are now
	return err
}

// lineAt is the line of buf[p], for p at or after the last position asked
// for: pos only moves forward, and fill moves the mark with the bytes.
func (j *jsonReader) lineAt(p int) int64 {
	j.line += int64(bytes.Count(j.buf[j.linePos:p], newline))
	j.linePos = p
	return j.line
}

// objLine is the line of the object (or the value that is no object) at
// pos, which start found: until it is consumed or skipped.
func (j *jsonReader) objLine() int64 { return j.lineAt(j.pos) }

var newline = []byte{'\n'}

// data is the buffered input with its zero padding.
func (j *jsonReader) data() []byte { return j.buf[:j.end+jsonPad] }

// skipSpace consumes whitespace and returns the next byte without
// consuming it; io.EOF at the end.
func (j *jsonReader) skipSpace() (byte, error) {
	for {
		for j.pos < j.end {
			switch c := j.buf[j.pos]; c {
			case ' ', '\n', '\t', '\r':
			default:
				return c, nil
			}
			j.pos++
		}
		if j.eof {
			return 0, io.EOF
		}
		if err := j.fill(); err != nil {
			return 0, err
		}
	}
}

// start moves to the '{' of the next object and returns io.EOF when there
// are no more. The object's line is j.objLine().
func (j *jsonReader) start() error {
	if !j.began {
		j.began = true
		if err := j.fill(); err != nil {
			return err
		}
		for j.end-j.pos < len(utf8BOM) && !j.eof {
			if err := j.fill(); err != nil {
				return err
			}
		}
		if bytes.HasPrefix(j.buf[j.pos:j.end], utf8BOM) {
			j.pos += len(utf8BOM)
		}
		c, err := j.skipSpace()
		if err != nil {
			return err
		}
		if c == '[' {
			j.pos++
			j.array = true
		}
	}
	j.bad = ""
	c, err := j.skipSpace()
	if err == io.EOF {
		if j.array && !j.closed {
			return dataErrf(j.name, j.lineAt(j.pos), "", "top-level array not closed before the end of the file")
		}
		return io.EOF
	}
	if err != nil {
		return err
	}
	if j.closed {
		return dataErrf(j.name, j.lineAt(j.pos), "", "unexpected %q after the top-level array", c)
	}
	if j.array {
		if c == ']' {
			j.pos++
			j.closed = true
			return j.start()
		}
		if j.elems > 0 {
			if c != ',' {
				return dataErrf(j.name, j.lineAt(j.pos), "", "expected ',' or ']' between array elements, found %q", c)
			}
			j.pos++
			if c, err = j.skipSpace(); err != nil {
				return j.eofInside(err)
			}
		}
	}
	if c != '{' {
		if !j.array {
			j.bad = RejectInvalidJSON
		}
		if k, ok := leadKind(c); ok {
			return dataErrf(j.name, j.lineAt(j.pos), "", "a JSON value that is not an object (%s); each line, or each element of a top-level array, must be an object", k)
		}
		return dataErrf(j.name, j.lineAt(j.pos), "", "expected a JSON object, found %q", c)
	}
	return nil
}

func (j *jsonReader) eofInside(err error) error {
	if err == io.EOF {
		return dataErrf(j.name, j.lineAt(j.pos), "", "file ends inside a JSON value")
	}
	return err
}

// consume ends the object that started at j.pos at end.
func (j *jsonReader) consume(end int) {
	j.pos = end
	j.elems++
}

// failed turns a parse failure at pos of the object at j.pos into its
// error: errNeedMore when the data ran out and more may come.
func (j *jsonReader) failed(pos int, fail jsonFail) error {
	j.bad = ""
	if pos >= j.end {
		if !j.eof {
			return errNeedMore
		}
		return dataErrf(j.name, j.objLine()+int64(bytes.Count(j.buf[j.pos:j.end], newline)), "", "file ends inside a JSON value")
	}
	if !j.array {
		j.bad = RejectInvalidJSON
		if fail == jsonBadUTF8 {
			j.bad = RejectInvalidUnicode
		}
	}
	if fail == jsonBadUTF8 {
		return dataErr(j.name, j.objLine(), "", errUTF8)
	}
	return dataErr(j.name, j.objLine(), "", jsonSyntaxErr(j.buf[j.pos:pos+1]))
}

// skipLine consumes the rest of the line at j.pos, where a malformed
// object (or a value that is no object) starts: JSON lines resume at the
// next line. It appends the line's text, at most MaxRejectRawBytes bytes,
// to dst.
func (j *jsonReader) skipLine(dst []byte) ([]byte, error) {
	start := len(dst)
	for {
		b := j.buf[j.pos:j.end]
		i := bytes.IndexByte(b, '\n')
		if i >= 0 {
			b = b[:i+1]
		}
		dst = append(dst, b[:min(len(b), MaxRejectRawBytes+2-(len(dst)-start))]...)
		if i >= 0 {
			j.pos += i + 1
			break
		}
		j.pos = j.end
		if j.eof {
			break
		}
		if err := j.fill(); err != nil {
			return dst, err
		}
	}
	return append(dst[:start], rowText(dst[start:])...), nil
}

// next returns the next object's bytes, checked, valid until the
// following call, and the line it starts on; io.EOF when there are no
// more. The general path, for sampling.
func (j *jsonReader) next() ([]byte, int64, error) {
	if err := j.start(); err != nil {
		return nil, 0, err
	}
	for {
		end, fail := skipValue(j.data(), j.pos, 0)
		if fail == jsonOK {
			obj := j.buf[j.pos:end]
			line := j.objLine()
			j.consume(end)
			return obj, line, nil
		}
		if err := j.failed(end, fail); err != errNeedMore {
			return nil, 0, err
		}
		if err := j.fill(); err != nil {
			return nil, 0, err
		}
	}
}

// jsonSyntaxErr says what is wrong with invalid JSON: b runs up to and
// including the first byte the parser refused, so encoding/json stops at
// the same place.
func jsonSyntaxErr(b []byte) error {
	var v any
	err := json.Unmarshal(b, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return errors.New("invalid JSON: " + se.Error())
	}
	return fmt.Errorf("invalid JSON at byte %d of the object", len(b))
}

// leadKind is the kind of JSON value that starts with c, if one does.
func leadKind(c byte) (jsonKind, bool) {
	switch {
	case c == '[':
		return jsonArray, true
	case c == '"':
		return jsonString, true
	case c == 't' || c == 'f':
		return jsonBool, true
	case c == 'n':
		return jsonNull, true
	case c == '-' || (c >= '0' && c <= '9'):
		return jsonNumber, true
	}
	return 0, false
}
