package decode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// Object is one source file as the decoders see it. The S3 adapter
// implements it with GetObject pinned to the listed ETag; LocalFile
// implements it for tests and local use.
type Object interface {
	// Name identifies the object in every error, e.g. "s3://bucket/key".
	Name() string
	Size() int64
	// Open returns the whole object as a stream.
	Open(ctx context.Context) (io.ReadCloser, error)
	// ReadAt is one ranged read, with io.ReaderAt's contract; Parquet uses
	// it, from two goroutines at once when it reads ahead.
	ReadAt(ctx context.Context, p []byte, off int64) (int, error)
}

// LocalFile returns the file at path as an Object named by path.
func LocalFile(path string) (Object, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("opening local file: %w", err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("opening local file %s: is a directory", path)
	}
	return &localFile{path: path, size: fi.Size()}, nil
}

type localFile struct {
	path string
	size int64
}

func (f *localFile) Name() string { return f.path }
func (f *localFile) Size() int64  { return f.size }

func (f *localFile) Open(ctx context.Context) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return os.Open(f.path)
}

// ReadAt opens the file for each read: an Object has no Close, so it must
// not hold a descriptor between calls.
func (f *localFile) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	fh, err := os.Open(f.path)
	if err != nil {
		return 0, err
	}
	defer fh.Close()
	return fh.ReadAt(p, off)
}

// ioErrors remembers the first error the Object returned during one call.
// Decoders (csv, json, gzip, parquet) turn a failed read into errors of
// their own or into plain truncation; preferring the remembered error keeps
// a network failure or a changed ETag recognisable to the caller, and never
// a DataError.
type ioErrors struct {
	name string
	mu   sync.Mutex // parquet may read from more than one goroutine
	err  error
}

func (e *ioErrors) record(err error) {
	if err == nil || err == io.EOF {
		return
	}
	e.mu.Lock()
	if e.err == nil {
		e.err = err
	}
	e.mu.Unlock()
}

// first returns the remembered error wrapped for the caller, or nil.
func (e *ioErrors) first() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err == nil {
		return nil
	}
	return fmt.Errorf("reading %s: %w", e.name, e.err)
}

// prefer returns the remembered I/O error if there is one, else err.
func (e *ioErrors) prefer(err error) error {
	if err == nil {
		return nil
	}
	if ioErr := e.first(); ioErr != nil {
		return ioErr
	}
	return err
}

// streamReader is the Object's stream with its errors remembered. A
// stream that failed stays failed: bufio hands an error out once, to the
// Peek that met it (format sniffing, dialect detection), and reads again
// after it, where a body may say it ended and the file would read cut
// short without an error.
type streamReader struct {
	r      io.Reader
	errs   *ioErrors
	failed error
}

func (s *streamReader) Read(p []byte) (int, error) {
	if s.failed != nil {
		return 0, s.failed
	}
	n, err := s.r.Read(p)
	s.errs.record(err)
	if err != nil && err != io.EOF {
		s.failed = err
	}
	return n, err
}

// objectReaderAt binds ctx to an Object for the duration of one Infer or
// Decode call, giving Parquet the io.ReaderAt and io.Seeker it wants.
type objectReaderAt struct {
	ctx  context.Context
	obj  Object
	errs *ioErrors
	pos  int64 // for Seek only; ReadAt does not move it
}

func (r *objectReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := r.obj.ReadAt(r.ctx, p, off)
	if errors.Is(err, io.EOF) && n == len(p) {
		err = nil
	}
	r.errs.record(err)
	return n, err
}

func (r *objectReaderAt) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.pos
	case io.SeekEnd:
		offset += r.obj.Size()
	default:
		return 0, fmt.Errorf("seeking %s: invalid whence %d", r.obj.Name(), whence)
	}
	if offset < 0 {
		return 0, fmt.Errorf("seeking %s: negative position", r.obj.Name())
	}
	r.pos = offset
	return offset, nil
}

// ReaderObject is size bytes of r as an Object named name: a part read
// back after it was copied, for one.
func ReaderObject(name string, r io.ReaderAt, size int64) Object {
	return &readerObject{name: name, r: r, size: size}
}

type readerObject struct {
	name string
	r    io.ReaderAt
	size int64
}

func (o *readerObject) Name() string { return o.name }
func (o *readerObject) Size() int64  { return o.size }

func (o *readerObject) Open(ctx context.Context) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return io.NopCloser(io.NewSectionReader(o.r, 0, o.size)), nil
}

func (o *readerObject) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return io.NewSectionReader(o.r, 0, o.size).ReadAt(p, off)
}
