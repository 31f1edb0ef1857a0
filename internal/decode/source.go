package decode

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

const (
	// streamBuffer is the read size on the Object's stream, and the most
	// the text readers ask for at once.
	streamBuffer = 256 << 10
	// zstdMaxWindow refuses frames that would need more memory than a
	// worker should spend on one file's decompression window.
	zstdMaxWindow = 256 << 20
)

var parquetMagic = []byte("PAR1")

// sniffCompression names the compression whose magic bytes start b, or "".
func sniffCompression(b []byte) Compression {
	switch {
	case len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b:
		return CompressionGzip
	case len(b) >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd:
		return CompressionZstd
	case len(b) >= 4 && b[0] == 'B' && b[1] == 'Z' && b[2] == 'h' && b[3] >= '1' && b[3] <= '9':
		return CompressionBzip2
	}
	return ""
}

// stream is a source file's decompressed content. Close it when done: it
// owns the Object's body and the decompressor.
type stream struct {
	*bufio.Reader
	closers []io.Closer
	// size is how many bytes the stream gives, when known (an object read
	// as it is stored); -1 when not (decompressed).
	size int64
}

func (s *stream) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i].Close())
	}
	return errors.Join(errs...)
}

// openStream opens obj and unwraps whatever compression its first bytes
// show; the name or option only matters when the bytes are ambiguous, and
// they never are for gzip, zstd and bzip2. Decompressed content fails with
// a LimitError as soon as it passes s's cap for obj.
func openStream(ctx context.Context, obj Object, s *settings, errs *ioErrors) (*stream, error) {
	body, err := obj.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", obj.Name(), err)
	}
	st := &stream{closers: []io.Closer{body}, size: -1}
	// No larger than the object: a small file gets a small buffer.
	raw := bufio.NewReaderSize(&streamReader{r: body, errs: errs}, int(min(streamBuffer, max(obj.Size(), 0)+64)))
	magic, err := raw.Peek(4)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		st.Close()
		return nil, errs.prefer(fmt.Errorf("reading %s: %w", obj.Name(), err))
	}
	compression := sniffCompression(magic)
	var r io.Reader
	switch compression {
	case CompressionGzip:
		// klauspost's gzip, like the standard one, reads every member of a
		// multi-member file by default.
		zr, err := gzip.NewReader(raw)
		if err != nil {
			st.Close()
			return nil, errs.prefer(decompressErr(obj.Name(), compression, err))
		}
		st.closers = append(st.closers, zr)
		r = zr
	case CompressionZstd:
		// Concurrency 1 decodes in the caller's goroutine: nothing to leak,
		// and a panic stays where Decode recovers it.
		zr, err := zstd.NewReader(raw, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(zstdMaxWindow))
		if err != nil {
			st.Close()
			return nil, errs.prefer(decompressErr(obj.Name(), compression, err))
		}
		st.closers = append(st.closers, closerFunc(func() error { zr.Close(); return nil }))
		r = zr
	case CompressionBzip2:
		r = bzip2.NewReader(raw)
	default:
		st.Reader, st.size = raw, obj.Size()
		return st, nil
	}
	// Small: it serves the format sniffing, then the text readers' reads
	// (at least as large) go through it without a copy.
	d := &decompressReader{r: r, name: obj.Name(), compression: compression, size: obj.Size(),
		limit: limitFor(obj.Size(), s.maxDecompressed, s.maxRatio), errs: errs}
	st.Reader = bufio.NewReaderSize(d, firstRead)
	return st, nil
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// decompressReader turns a decompressor's complaints about its input into
// DataErrors, unless the Object failed underneath it, and stops the
// content at its limit.
type decompressReader struct {
	r           io.Reader
	name        string
	compression Compression
	size        int64 // the compressed file's
	limit       decompressLimit
	read        int64
	errs        *ioErrors
}

func (d *decompressReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	if err != nil && err != io.EOF {
		err = d.errs.prefer(decompressErr(d.name, d.compression, err))
	}
	if d.limit.max > 0 && d.read+int64(n) > d.limit.max {
		// Hand over the bytes up to the cap: only content past it is refused.
		keep := d.limit.max - d.read
		d.read += int64(n)
		return int(keep), dataErr(d.name, 0, "", &LimitError{Compression: d.compression,
			Compressed: d.size, Limit: d.limit.max, Read: d.read, Knob: d.limit.knob})
	}
	d.read += int64(n)
	return n, err
}

func decompressErr(name string, c Compression, err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF // a stream that ends inside a header is truncated
	}
	return dataErr(name, 0, "", fmt.Errorf("decompressing %s: %w", c, err))
}

// looksLikeParquet reports whether content starts with Parquet's magic.
func looksLikeParquet(r *bufio.Reader) bool {
	b, _ := r.Peek(len(parquetMagic))
	return bytes.Equal(b, parquetMagic)
}
