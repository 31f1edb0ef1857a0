package flatparquet

// grow makes room for n more elements in s. A page's buffers fill by
// batches while the first pages are written: append would grow them a
// quarter at a time once large, copying and clearing them over and over;
// grow doubles them.
func grow[T any](s []T, n int) []T {
	if cap(s)-len(s) >= n {
		return s
	}
	g := make([]T, len(s), max(2*cap(s), len(s)+n))
	copy(g, s)
	return g
}

// appendBytes appends b to dst, growing dst as grow does.
func appendBytes(dst, b []byte) []byte {
	return append(grow(dst, len(b)), b...)
}
