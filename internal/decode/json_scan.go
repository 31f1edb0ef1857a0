package decode

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"unicode/utf8"
)

// jsonScanner splits a stream into its top-level JSON objects: JSON lines
// (or any whitespace-separated objects), or the elements of one top-level
// array, told apart by the first non-space byte. Each object is checked to
// be valid UTF-8 JSON, and comes with the line it starts on.
type jsonScanner struct {
	r       *bufio.Reader
	name    string
	line    int64 // line of the next unread byte, from 1
	started bool
	array   bool // inside a top-level array
	closed  bool // the top-level array's ']' was read
	elems   int  // elements read from the array
	buf     []byte
}

func newJSONScanner(r *bufio.Reader, name string) *jsonScanner {
	return &jsonScanner{r: r, name: name, line: 1}
}

// skipSpace consumes whitespace, counting lines, and returns the next byte
// without consuming it; io.EOF at the end.
func (s *jsonScanner) skipSpace() (byte, error) {
	for {
		c, err := s.r.ReadByte()
		if err != nil {
			return 0, err
		}
		switch c {
		case '\n':
			s.line++
		case ' ', '\t', '\r':
		default:
			return c, s.r.UnreadByte()
		}
	}
}

// next returns the next object's bytes, valid until the following call,
// and the line it starts on; io.EOF when there are no more.
func (s *jsonScanner) next() ([]byte, int64, error) {
	if !s.started {
		s.started = true
		if b, _ := s.r.Peek(3); bytes.Equal(b, utf8BOM) {
			s.r.Discard(3)
		}
		c, err := s.skipSpace()
		if err != nil {
			return nil, 0, err
		}
		if c == '[' {
			s.r.ReadByte()
			s.array = true
		}
	}
	c, err := s.skipSpace()
	if err == io.EOF {
		if s.array && !s.closed {
			return nil, 0, dataErrf(s.name, s.line, "", "top-level array not closed before the end of the file")
		}
		return nil, 0, io.EOF
	}
	if err != nil {
		return nil, 0, err
	}
	if s.closed {
		return nil, 0, dataErrf(s.name, s.line, "", "unexpected %q after the top-level array", c)
	}
	if s.array {
		if c == ']' {
			s.r.ReadByte()
			s.closed = true
			return s.next()
		}
		if s.elems > 0 {
			if c != ',' {
				return nil, 0, dataErrf(s.name, s.line, "", "expected ',' or ']' between array elements, found %q", c)
			}
			s.r.ReadByte()
			if c, err = s.skipSpace(); err != nil {
				return nil, 0, s.eofInside(err)
			}
		}
	}
	if c != '{' {
		return nil, 0, dataErrf(s.name, s.line, "", "expected a JSON object, found %q", c)
	}
	line := s.line
	if err := s.scanObject(); err != nil {
		return nil, 0, err
	}
	s.elems++
	if !utf8.Valid(s.buf) {
		return nil, 0, dataErr(s.name, line, "", errUTF8)
	}
	if !json.Valid(s.buf) {
		return nil, 0, dataErr(s.name, line, "", jsonSyntaxErr(s.buf))
	}
	return s.buf, line, nil
}

func (s *jsonScanner) eofInside(err error) error {
	if err == io.EOF {
		return dataErrf(s.name, s.line, "", "file ends inside a JSON value")
	}
	return err
}

// scanObject reads one balanced {...} into s.buf, tracking strings so that
// brackets inside them do not count. Validity is checked afterwards.
func (s *jsonScanner) scanObject() error {
	s.buf = s.buf[:0]
	depth, inStr, esc := 0, false, false
	for {
		if s.r.Buffered() == 0 {
			if _, err := s.r.Peek(1); err != nil {
				return s.eofInside(err)
			}
		}
		chunk, _ := s.r.Peek(s.r.Buffered())
		end := -1
	scan:
		for i, c := range chunk {
			if c == '\n' {
				s.line++
			}
			switch {
			case inStr:
				switch {
				case esc:
					esc = false
				case c == '\\':
					esc = true
				case c == '"':
					inStr = false
				}
			case c == '"':
				inStr = true
			case c == '{' || c == '[':
				depth++
			case c == '}' || c == ']':
				depth--
				if depth == 0 {
					end = i + 1
					break scan
				}
			}
		}
		if end >= 0 {
			s.buf = append(s.buf, chunk[:end]...)
			s.r.Discard(end)
			return nil
		}
		s.buf = append(s.buf, chunk...)
		s.r.Discard(len(chunk))
		if len(s.buf) > maxRecordBytes {
			return dataErrf(s.name, s.line, "", "JSON object longer than %d bytes", maxRecordBytes)
		}
	}
}

// jsonSyntaxErr says what is wrong with an invalid object.
func jsonSyntaxErr(b []byte) error {
	var v any
	err := json.Unmarshal(b, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return errors.New("invalid JSON: " + se.Error())
	}
	if err == nil {
		err = errors.New("invalid JSON")
	}
	return err
}
