package pipeline

import (
	"context"
	"io"

	"github.com/s3load/s3load/internal/decode"
	"github.com/s3load/s3load/worker"
)

// countedObject counts every byte read from the source as progress: the
// worker tells a long file that keeps reading from a stuck one by it.
type countedObject struct {
	decode.Object
	progress *worker.Progress
}

func (o *countedObject) Open(ctx context.Context) (io.ReadCloser, error) {
	rc, err := o.Object.Open(ctx)
	if err != nil {
		return nil, err
	}
	return &countedReader{ReadCloser: rc, progress: o.progress}, nil
}

func (o *countedObject) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	n, err := o.Object.ReadAt(ctx, p, off)
	o.progress.AddBytes(int64(n))
	return n, err
}

type countedReader struct {
	io.ReadCloser
	progress *worker.Progress
}

func (r *countedReader) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	r.progress.AddBytes(int64(n))
	return n, err
}

// OpenAt streams from off with one request where the source can (a byte
// range of a split file), else through ranged reads.
func (o *countedObject) OpenAt(ctx context.Context, off int64) (io.ReadCloser, error) {
	type rangeOpener interface {
		OpenAt(ctx context.Context, off int64) (io.ReadCloser, error)
	}
	if ro, ok := o.Object.(rangeOpener); ok {
		rc, err := ro.OpenAt(ctx, off)
		if err != nil {
			return nil, err
		}
		return &countedReader{ReadCloser: rc, progress: o.progress}, nil
	}
	return io.NopCloser(io.NewSectionReader(ctxReaderAt{ctx: ctx, o: o}, off, o.Size()-off)), nil
}

type ctxReaderAt struct {
	ctx context.Context
	o   *countedObject
}

func (r ctxReaderAt) ReadAt(p []byte, off int64) (int, error) { return r.o.ReadAt(r.ctx, p, off) }
