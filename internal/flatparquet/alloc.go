package flatparquet

// chunkAlloc is the memory.Allocator of one column's page writer. arrow-go's
// buffered page writer holds a column chunk's compressed pages in a buffer
// it grows by doubling and frees once the row group is written: from the Go
// allocator every row group would allocate (and zero) that buffer anew at
// each size on the way. chunkAlloc keeps the freed buffer for the column's
// next chunk, so after the first row group a chunk grows in place.
type chunkAlloc struct {
	kept []byte
}

func (a *chunkAlloc) Allocate(size int) []byte {
	if cap(a.kept) >= size {
		b := a.kept[:size]
		a.kept = nil
		return b
	}
	return make([]byte, size)
}

func (a *chunkAlloc) Reallocate(size int, b []byte) []byte {
	if cap(b) >= size {
		return b[:size]
	}
	nb := a.Allocate(size)
	copy(nb, b)
	a.Free(b)
	return nb
}

// Free keeps the largest buffer freed: the next chunk of the same column
// is likely as large.
func (a *chunkAlloc) Free(b []byte) {
	if cap(b) > cap(a.kept) {
		a.kept = b[:0]
	}
}
