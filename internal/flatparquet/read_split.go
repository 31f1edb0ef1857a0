package flatparquet

// unsplit reassembles n values of width bytes from BYTE_STREAM_SPLIT data
// of total values, starting at value first: value i's byte b is
// data[b*total+i].
func unsplit(dst, data []byte, width, total, first, n int) {
	switch width {
	case 4:
		s0 := data[first : first+n]
		s1 := data[total+first : total+first+n]
		s2 := data[2*total+first : 2*total+first+n]
		s3 := data[3*total+first : 3*total+first+n]
		dst = dst[:4*n]
		for i := range n {
			v := dst[4*i : 4*i+4 : 4*i+4]
			v[0], v[1], v[2], v[3] = s0[i], s1[i], s2[i], s3[i]
		}
	case 8:
		s0 := data[first : first+n]
		s1 := data[total+first : total+first+n]
		s2 := data[2*total+first : 2*total+first+n]
		s3 := data[3*total+first : 3*total+first+n]
		s4 := data[4*total+first : 4*total+first+n]
		s5 := data[5*total+first : 5*total+first+n]
		s6 := data[6*total+first : 6*total+first+n]
		s7 := data[7*total+first : 7*total+first+n]
		dst = dst[:8*n]
		for i := range n {
			v := dst[8*i : 8*i+8 : 8*i+8]
			v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7] = s0[i], s1[i], s2[i], s3[i], s4[i], s5[i], s6[i], s7[i]
		}
	default:
		for b := range width {
			s := data[b*total+first : b*total+first+n]
			for i, x := range s {
				dst[i*width+b] = x
			}
		}
	}
}
