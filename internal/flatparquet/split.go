package flatparquet

// BYTE_STREAM_SPLIT: the page's values PLAIN-encoded, then split into one
// stream per byte of the type: all first bytes, all second bytes, and so
// on. The page gathers them PLAIN; the split is done when it is written.

// appendSplit appends plain (values of width bytes each) split into streams.
func appendSplit(dst, plain []byte, width int) []byte {
	n := len(plain) / width
	start := len(dst)
	dst = grow(dst, len(plain))[:start+len(plain)]
	out := dst[start:]
	switch width {
	case 4:
		s0, s1, s2, s3 := out[:n], out[n:2*n], out[2*n:3*n], out[3*n:4*n]
		for i := range n {
			v := plain[4*i : 4*i+4 : 4*i+4]
			s0[i], s1[i], s2[i], s3[i] = v[0], v[1], v[2], v[3]
		}
	default:
		for i := range n {
			v := plain[i*width : (i+1)*width]
			for b, x := range v {
				out[b*n+i] = x
			}
		}
	}
	return dst
}
