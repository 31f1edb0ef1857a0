package decode

import (
	"context"
	"io"
)

// maxAheadBytes bounds one row group fetched whole. Two are held at once
// (the one being decoded and the next), so a worker's read-ahead costs at
// most 32 MiB of its 256 MB budget; a larger row group (Spark writes
// 128 MB ones) is read as before, a column chunk buffer at a time.
const maxAheadBytes = 16 << 20

// byteSpan is [start, end) of a file.
type byteSpan struct{ start, end int64 }

func (s byteSpan) size() int64 { return s.end - s.start }

// readAhead serves a stored Parquet file's reads from whole row groups:
// each is fetched with one ranged GET, the next one while the current one
// is decoded. Read column chunk by column chunk, a 28 MB file of 8 row
// groups and 7 columns cost ~60 GETs, one after another, each waiting on
// the store (on S3, tens of milliseconds each). Reads outside the held row
// group go to the object as before, so a span the footer misstates costs
// speed, never bytes.
//
// ReadAt and hold run on the decoding goroutine; only fetch's goroutine
// runs beside it, and it touches nothing but its own buffer.
type readAhead struct {
	ra   *objectReaderAt // the object's reads, errors recorded
	held byteSpan
	buf  []byte // held's bytes

	cancel  context.CancelFunc
	pending byteSpan
	result  chan fetched // of pending; nil when nothing is in flight
	spare   []byte       // a buffer to fetch into, reused
}

type fetched struct {
	buf []byte
	err error
}

func newReadAhead(ra *objectReaderAt) *readAhead {
	return &readAhead{ra: ra}
}

func (r *readAhead) ReadAt(p []byte, off int64) (int, error) {
	if off >= r.held.start && off+int64(len(p)) <= r.held.end {
		return copy(p, r.buf[off-r.held.start:]), nil
	}
	return r.ra.ReadAt(p, off)
}

func (r *readAhead) Seek(offset int64, whence int) (int64, error) {
	return r.ra.Seek(offset, whence)
}

// hold makes span the row group reads are served from, and starts
// fetching next (zero: none). A span over maxAheadBytes is not held; a
// failed fetch is not either (the reads then go to the object and meet the
// failure where it is classified).
func (r *readAhead) hold(ctx context.Context, span, next byteSpan) {
	inFlight := r.result != nil && r.pending == span
	if !inFlight {
		r.wait() // a prefetch of something else is of no use now
	}
	if r.buf != nil { // the row group held so far is decoded
		r.spare = r.buf[:0]
	}
	r.held, r.buf = byteSpan{}, nil
	var got fetched
	switch {
	case inFlight:
		got = r.collect()
	case span.size() > 0 && span.size() <= maxAheadBytes:
		got = r.read(ctx, r.take(span.size()), span)
	}
	switch {
	case got.err == nil && got.buf != nil:
		r.held, r.buf = span, got.buf
	case got.buf != nil:
		r.spare = got.buf[:0]
	}
	if next.size() > 0 && next.size() <= maxAheadBytes {
		r.fetch(ctx, next)
	}
}

// fetch reads span in a goroutine that stop or the next hold waits for:
// its send on result is the last thing it does.
func (r *readAhead) fetch(ctx context.Context, span byteSpan) {
	fctx, cancel := context.WithCancel(ctx)
	r.cancel, r.pending, r.result = cancel, span, make(chan fetched, 1)
	buf := r.take(span.size())
	go func(result chan<- fetched) { result <- r.read(fctx, buf, span) }(r.result)
}

// read fetches span into buf straight from the object: a prefetch's
// failure (or its cancellation) is not the file's.
func (r *readAhead) read(ctx context.Context, buf []byte, span byteSpan) fetched {
	n, err := r.ra.obj.ReadAt(ctx, buf, span.start)
	if err == io.EOF && n == len(buf) {
		err = nil
	}
	if err == nil && n < len(buf) {
		err = io.ErrUnexpectedEOF
	}
	return fetched{buf: buf, err: err}
}

// take returns a buffer of n bytes, the spare one if it is big enough.
func (r *readAhead) take(n int64) []byte {
	if b := r.spare; int64(cap(b)) >= n {
		r.spare = nil
		return b[:n]
	}
	return make([]byte, n)
}

// collect waits for the prefetch in flight and returns what it read.
func (r *readAhead) collect() fetched {
	got := <-r.result
	r.cancel()
	r.result = nil
	return got
}

// wait ends a prefetch in flight and drops its result.
func (r *readAhead) wait() {
	if r.result == nil {
		return
	}
	r.cancel()
	if got := r.collect(); got.buf != nil {
		r.spare = got.buf[:0]
	}
}

// stop ends the read-ahead: no goroutine outlives the decode, and no row
// group stays held.
func (r *readAhead) stop() {
	r.wait()
	r.held, r.buf, r.spare = byteSpan{}, nil, nil
}
