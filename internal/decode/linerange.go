package decode

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
)

// lineRange is the part of a text Object that a byte range owns: the lines
// that start in [r.Start, r.End), preceded by the file's first line when
// that is a CSV header. It reads through the Object's ranged reads, so
// only its own bytes (and the header) are fetched, plus the tail of the
// line that crosses its end.
type lineRange struct {
	Object
	r      ByteRange
	header bool
}

func (l *lineRange) Name() string {
	return fmt.Sprintf("%s (bytes %d-%d)", l.Object.Name(), l.r.Start, l.r.End)
}

// Size is what a reader should expect: the range and a line past it.
func (l *lineRange) Size() int64 { return l.r.End - l.r.Start + 64<<10 }

func (l *lineRange) Open(ctx context.Context) (io.ReadCloser, error) {
	var head []byte
	if l.header && l.r.Start > 0 {
		h, err := l.firstLine(ctx)
		if err != nil {
			return nil, err
		}
		head = h
	}
	// Start one byte early: a line starts at Start exactly when the byte
	// before it is a newline.
	from := max(l.r.Start-1, 0)
	// Through ReadAt every read is a request: buffered, they are 1 MiB.
	var src io.Reader = io.NewSectionReader(readerAt{ctx: ctx, obj: l.Object}, from, l.Object.Size()-from)
	var closer io.Closer = io.NopCloser(nil)
	buffer := 1 << 20
	if o, ok := l.Object.(rangeOpener); ok {
		rc, err := o.OpenAt(ctx, from)
		if err != nil {
			return nil, err
		}
		src, closer = rc, rc
		// A stream needs a buffer only to find the first line's end:
		// bufio passes reads at least its size straight through, and the
		// decoders read 256 KiB at a time, so a small buffer spares copying
		// every byte of the range (2% of a split file's load).
		buffer = 64 << 10
	}
	body := &lineCutter{
		r:    bufio.NewReaderSize(src, buffer),
		pos:  from,
		end:  l.r.End,
		skip: l.r.Start > 0,
	}
	return readCloser{io.MultiReader(bytes.NewReader(head), body), closer}, nil
}

// rangeOpener is an Object that can stream from an offset (one request,
// where ReadAt makes one per buffer).
type rangeOpener interface {
	OpenAt(ctx context.Context, off int64) (io.ReadCloser, error)
}

type readCloser struct {
	io.Reader
	io.Closer
}

// firstLine reads the file's first line, newline included.
func (l *lineRange) firstLine(ctx context.Context) ([]byte, error) {
	var line []byte
	buf := make([]byte, 64<<10)
	for off := int64(0); off < l.Object.Size(); off += int64(len(buf)) {
		n, err := l.Object.ReadAt(ctx, buf, off)
		if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
			return append(line, buf[:i+1]...), nil
		}
		line = append(line, buf[:n]...)
		if len(line) > maxRecordBytes {
			return nil, dataErrf(l.Object.Name(), 1, "", "header line longer than %d bytes", maxRecordBytes)
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
	}
	// No line feed in the whole file: its lines end some other way (bare
	// CR), so byte ranges cut by line feeds would each hold the whole file.
	// Failing the range makes the file load again whole.
	return nil, dataErrf(l.Object.Name(), 1, "", "no line feed in the file, so it cannot be loaded by ranges (bare-CR line ends?)")
}

// readerAt adapts an Object's ReadAt to io.ReaderAt for one Open.
type readerAt struct {
	ctx context.Context
	obj Object
}

func (r readerAt) ReadAt(p []byte, off int64) (int, error) { return r.obj.ReadAt(r.ctx, p, off) }

// lineCutter passes the bytes of the lines that start in [start, end):
// with skip, it first drops everything up to and including the first
// newline (the tail of a line that started before the range); it stops
// after the first newline at or after end-1, or at the file's end.
type lineCutter struct {
	r    *bufio.Reader
	pos  int64 // file offset of the next byte of r
	end  int64
	skip bool
	done bool
}

func (c *lineCutter) Read(p []byte) (int, error) {
	for c.skip {
		b, err := c.r.ReadSlice('\n')
		c.pos += int64(len(b))
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return 0, err // io.EOF: no line starts in the range
		}
		c.skip = false
		// The first whole line starts at pos: past the range, it is the
		// next range's.
		c.done = c.pos >= c.end
	}
	if c.done {
		return 0, io.EOF
	}
	n, err := c.r.Read(p)
	chunk := p[:n]
	if last := c.pos + int64(n); last > c.end-1 {
		// The cut: the first newline at or after end-1.
		from := max(c.end-1-c.pos, 0)
		if i := bytes.IndexByte(chunk[from:], '\n'); i >= 0 {
			n = int(from) + i + 1
			c.done = true
		}
	}
	c.pos += int64(n)
	if c.done {
		return n, nil
	}
	return n, err
}
