package flatparquet

import (
	"bytes"
	"encoding/binary"

	"github.com/apache/arrow-go/v18/arrow/bitutil"
)

// PLAIN byte arrays: each value's length (4 bytes, little-endian), then
// its bytes.

// appendByteArrays appends the valid values among offs (the n+1 offsets of
// n values into data; validity from bit off of valid, nil if all valid).
func appendByteArrays[O int32 | int64](dst, data []byte, offs []O, valid []byte, off int) []byte {
	n := len(offs) - 1
	// one growth for the whole batch (an upper bound when some are null)
	dst = grow(dst, int(offs[n]-offs[0])+4*n)
	for i := range n {
		if valid != nil && !bitutil.BitIsSet(valid, off+i) {
			continue
		}
		v := data[offs[i]:offs[i+1]]
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(v)))
		dst = append(dst, v...)
	}
	return dst
}

// byteArraysMinMax is the least and greatest valid value in unsigned
// bytewise order; ok is false if none is valid.
func byteArraysMinMax[O int32 | int64](data []byte, offs []O, valid []byte, off int) (mn, mx []byte, ok bool) {
	for i := range len(offs) - 1 {
		if valid != nil && !bitutil.BitIsSet(valid, off+i) {
			continue
		}
		v := data[offs[i]:offs[i+1]]
		if !ok {
			mn, mx, ok = v, v, true
			continue
		}
		if bytes.Compare(v, mn) < 0 {
			mn = v
		} else if bytes.Compare(v, mx) > 0 {
			mx = v
		}
	}
	return mn, mx, ok
}

// PLAIN booleans: bit-packed, least significant bit first, as Arrow holds
// them.

// appendBits appends n bits of src from bit off to dst, which holds nbits.
func appendBits(dst []byte, nbits int, src []byte, off, n int) []byte {
	dst = growBits(dst, nbits+n)
	bitutil.CopyBitmap(src, off, n, dst, nbits)
	return dst
}

// appendValidBits appends the valid bits of n bits of src from bit off to
// dst, which holds nbits, and returns the count appended.
func appendValidBits(dst []byte, nbits int, src []byte, off, n int, valid []byte) ([]byte, int) {
	dst = growBits(dst, nbits+n)
	k := nbits
	for i := range n {
		if bitutil.BitIsSet(valid, off+i) {
			if bitutil.BitIsSet(src, off+i) {
				bitutil.SetBit(dst, k)
			}
			k++
		}
	}
	return dst, k - nbits
}
