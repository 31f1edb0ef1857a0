package decode

import (
	"sync"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

const (
	// recycleMax bounds what a recycler keeps: about two batches of the
	// wide shape's buffers.
	recycleMax      = 64
	recycleMaxBytes = 64 << 20
)

// recycler allocates the buffers of the batches a decode emits. A batch's
// buffers come back when the consumer releases it (after emit, as Decode's
// contract says) and serve the next batch: no allocation, no zeroing and
// no garbage per batch in steady state. Our column writers set every byte
// they hand out, so recycled memory need not be zeroed. close hands what it
// keeps back to the real allocator; a buffer freed after close goes
// straight there.
type recycler struct {
	mem    memory.Allocator
	mu     sync.Mutex // Free may come from the consumer's goroutine
	orig   map[*byte]int
	free   [][]byte // released buffers at their original length
	bytes  int
	closed bool
}

func newRecycler(mem memory.Allocator) *recycler {
	return &recycler{mem: mem, orig: map[*byte]int{}}
}

func (r *recycler) Allocate(size int) []byte {
	if size == 0 {
		return r.mem.Allocate(0)
	}
	r.mu.Lock()
	best := -1
	for i, b := range r.free {
		// Fit within a factor of two, so a small request does not pin a
		// large buffer.
		if len(b) >= size && len(b) <= 2*size && (best < 0 || len(b) < len(r.free[best])) {
			best = i
		}
	}
	if best >= 0 {
		b := r.free[best]
		r.free[best] = r.free[len(r.free)-1]
		r.free = r.free[:len(r.free)-1]
		r.bytes -= len(b)
		r.mu.Unlock()
		return b[:size]
	}
	r.mu.Unlock()
	b := r.mem.Allocate(size)
	r.mu.Lock()
	r.orig[unsafe.SliceData(b)] = len(b)
	r.mu.Unlock()
	return b
}

func (r *recycler) Reallocate(size int, b []byte) []byte {
	if cap(b) >= size {
		return b[:size]
	}
	nb := r.Allocate(size)
	copy(nb, b)
	// A buffer outgrown while a batch fills is too small for later
	// batches: give it back rather than keep it.
	r.mu.Lock()
	if n, ok := r.orig[unsafe.SliceData(b)]; ok {
		delete(r.orig, unsafe.SliceData(b))
		b = b[:n]
	}
	r.mu.Unlock()
	r.mem.Free(b)
	return nb
}

func (r *recycler) Free(b []byte) {
	if cap(b) == 0 {
		r.mem.Free(b)
		return
	}
	r.mu.Lock()
	key := unsafe.SliceData(b)
	n, ok := r.orig[key]
	if !ok { // not ours: cannot happen, but never keep it
		r.mu.Unlock()
		r.mem.Free(b)
		return
	}
	full := b[:n]
	if r.closed || len(r.free) >= recycleMax || r.bytes+n > recycleMaxBytes {
		delete(r.orig, key)
		r.mu.Unlock()
		r.mem.Free(full)
		return
	}
	r.free = append(r.free, full)
	r.bytes += n
	r.mu.Unlock()
}

// close returns the kept buffers to the real allocator.
func (r *recycler) close() {
	r.mu.Lock()
	free := r.free
	r.free, r.bytes, r.closed = nil, 0, true
	for _, b := range free {
		delete(r.orig, unsafe.SliceData(b))
	}
	r.mu.Unlock()
	for _, b := range free {
		r.mem.Free(b)
	}
}
