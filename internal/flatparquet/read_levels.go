package flatparquet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow/bitutil"
)

// hybrid decodes the RLE/bit-packed hybrid encoding of definition levels,
// dictionary indices and RLE booleans: runs of one repeated value, and
// bit-packed runs of groups of 8 values, least significant bit first.
// Runs are decoded as runs: a repeated value fills its span with a loop,
// and with a bit width of 1 a bit-packed run is copied as a bitmap.
type hybrid struct {
	data  []byte
	pos   int // next byte of data: the next run's header
	width int
	rep   int    // values left in the current repeated run
	val   uint32 // its value
	lit   int    // values left in the current bit-packed run
	bit   int    // bit of data holding its next value
}

func (h *hybrid) reset(data []byte, width int) {
	*h = hybrid{data: data, width: width}
}

// errRunsEnd is what next returns at the end of the data; callers say
// what ended.
var errRunsEnd = errors.New("no more runs")

// next reads the next run's header.
func (h *hybrid) next() error {
	if h.pos >= len(h.data) {
		return errRunsEnd
	}
	hdr, n := binary.Uvarint(h.data[h.pos:])
	if n <= 0 {
		return errors.New("corrupt run header")
	}
	h.pos += n
	count := hdr >> 1
	if count == 0 {
		return errors.New("a run of no values")
	}
	if hdr&1 == 1 {
		if count > math.MaxInt32/8 {
			return fmt.Errorf("a bit-packed run of %d groups", count)
		}
		vals, size := int(count)*8, int(count)*h.width
		if avail := len(h.data) - h.pos; size > avail {
			// A last run may end with the data: its values are those
			// its bytes hold; needing more is an error when it happens.
			vals, size = avail*8/h.width, avail
		}
		h.lit, h.bit = vals, h.pos*8
		h.pos += size
		return nil
	}
	if count > math.MaxInt32 {
		return fmt.Errorf("a run of %d values", count)
	}
	nb := (h.width + 7) / 8
	if len(h.data)-h.pos < nb {
		return errors.New("run value truncated")
	}
	var v uint32
	for i := range nb {
		v |= uint32(h.data[h.pos+i]) << (8 * i)
	}
	h.pos += nb
	if h.width < 32 && v>>h.width != 0 {
		return fmt.Errorf("run value %d wider than %d bits", v, h.width)
	}
	h.rep, h.val = int(count), v
	return nil
}

// bits decodes n values of width 1 into dst's bits from off and returns
// how many are 1.
func (h *hybrid) bits(dst []byte, off, n int) (ones int, err error) {
	for n > 0 {
		switch {
		case h.rep > 0:
			m := min(n, h.rep)
			bitutil.SetBitsTo(dst, int64(off), int64(m), h.val == 1)
			if h.val == 1 {
				ones += m
			}
			h.rep -= m
			off += m
			n -= m
		case h.lit > 0:
			m := min(n, h.lit)
			bitutil.CopyBitmap(h.data, h.bit, m, dst, off)
			ones += bitutil.CountSetBits(dst, off, m)
			h.bit += m
			h.lit -= m
			off += m
			n -= m
		default:
			if err := h.next(); err != nil {
				return ones, err
			}
		}
	}
	return ones, nil
}

// indices decodes len(dst) dictionary indices, each of which must be less
// than size.
func (h *hybrid) indices(dst []uint32, size int) error {
	for len(dst) > 0 {
		switch {
		case h.rep > 0:
			if int64(h.val) >= int64(size) {
				return indexError(h.val, size)
			}
			m := min(len(dst), h.rep)
			v := h.val
			for i := range dst[:m] {
				dst[i] = v
			}
			h.rep -= m
			dst = dst[m:]
		case h.lit > 0:
			m := min(len(dst), h.lit)
			top := unpack32(dst[:m], h.data, h.bit, h.width)
			if int64(top) >= int64(size) {
				return indexError(top, size)
			}
			h.bit += m * h.width
			h.lit -= m
			dst = dst[m:]
		default:
			if err := h.next(); err != nil {
				return err
			}
		}
	}
	return nil
}

func indexError(i uint32, size int) error {
	return fmt.Errorf("dictionary index %d out of range (dictionary of %d values)", i, size)
}

// unpack32 unpacks len(dst) values of width bits (at most 32) from data
// starting at bit, and returns the greatest.
func unpack32(dst []uint32, data []byte, bit, width int) uint32 {
	if width == 0 {
		clear(dst)
		return 0
	}
	mask := uint64(1)<<width - 1
	var top uint32
	for i := range dst {
		b := bit >> 3
		var w uint64
		if b+8 <= len(data) {
			w = binary.LittleEndian.Uint64(data[b:])
		} else {
			w = tailWord(data, b)
		}
		v := uint32(w >> (bit & 7) & mask)
		dst[i] = v
		top = max(top, v)
		bit += width
	}
	return top
}

// unpack64 unpacks len(dst) values of width bits (at most 64) from the
// start of data.
func unpack64(dst []uint64, data []byte, width int) {
	if width == 0 {
		clear(dst)
		return
	}
	mask := ^uint64(0) >> (64 - width)
	bit := 0
	for i := range dst {
		b, s := bit>>3, uint(bit&7)
		var w uint64
		if b+8 <= len(data) {
			w = binary.LittleEndian.Uint64(data[b:])
		} else {
			w = tailWord(data, b)
		}
		v := w >> s
		if s+uint(width) > 64 && b+8 < len(data) {
			v |= uint64(data[b+8]) << (64 - s)
		}
		dst[i] = v & mask
		bit += width
	}
}

// tailWord is the little-endian word at data[b:], zero past the end.
func tailWord(data []byte, b int) uint64 {
	var w uint64
	for i := 0; i < 8 && b+i < len(data); i++ {
		w |= uint64(data[b+i]) << (8 * i)
	}
	return w
}

// levelsV1 splits a V1 page's data into its RLE definition levels (after
// their 4-byte length) and what follows.
func levelsV1(data []byte) (levels, rest []byte, err error) {
	if len(data) < 4 {
		return nil, nil, fmt.Errorf("definition levels truncated: page of %d bytes", len(data))
	}
	n := binary.LittleEndian.Uint32(data)
	if uint64(n) > uint64(len(data)-4) {
		return nil, nil, fmt.Errorf("definition levels of %d bytes past the page's end (%d bytes)", n, len(data)-4)
	}
	return data[4 : 4+n], data[4+n:], nil
}
