package flatparquet

import (
	"encoding/binary"
	"math/bits"
)

// DELTA_BINARY_PACKED as the Parquet spec and arrow-go write it: blocks of
// 128 values in 4 miniblocks of 32. The page starts with a header (block
// size, miniblocks per block, value count, first value); each block holds
// its smallest delta, the bit width of each miniblock, then each
// miniblock's deltas minus the smallest, bit-packed little-endian.
const (
	deltaBlock      = 128
	deltaMiniblocks = 4
	deltaMini       = deltaBlock / deltaMiniblocks
)

// deltaEncoder encodes one page of an INT32 or INT64 column.
type deltaEncoder struct {
	count  int   // values put in the page
	first  int64 // the page's first value
	prev   int64 // the last value put
	nd     int   // deltas pending in deltas
	deltas [deltaBlock]int64
	blocks []byte // finished blocks
}

func (e *deltaEncoder) reset() {
	e.count, e.nd = 0, 0
	e.blocks = e.blocks[:0]
}

// size is what the page's values take so far, as arrow-go estimates it:
// the finished blocks.
func (e *deltaEncoder) size() int { return len(e.blocks) }

// deltaPut adds values to e's page. Deltas are taken at the physical
// type's width, so they wrap in two's complement as the spec wants (an
// INT32 delta never needs more than 32 bits).
func deltaPut[T int32 | int64](e *deltaEncoder, values []T) {
	if len(values) == 0 {
		return
	}
	if e.count == 0 {
		e.first, e.prev = int64(values[0]), int64(values[0])
		values = values[1:]
		e.count = 1
	}
	e.count += len(values)
	prev := T(e.prev)
	for _, v := range values {
		e.deltas[e.nd] = int64(v - prev)
		prev = v
		e.nd++
		if e.nd == deltaBlock {
			e.flushBlock()
		}
	}
	e.prev = int64(prev)
}

// flushBlock writes the pending deltas as a block. A last block short of
// 128 values pads its last miniblock with zeros and writes no bytes (and
// a zero width) for the miniblocks it does not reach.
func (e *deltaEncoder) flushBlock() {
	if e.nd == 0 {
		return
	}
	deltas := e.deltas[:e.nd]
	minDelta := deltas[0]
	for _, d := range deltas[1:] {
		minDelta = min(minDelta, d)
	}
	e.blocks = appendZigZag(e.blocks, minDelta)
	widths := len(e.blocks)
	e.blocks = append(e.blocks, 0, 0, 0, 0)
	var packed [deltaMini]uint64
	for m := 0; m*deltaMini < len(deltas); m++ {
		mini := deltas[m*deltaMini : min((m+1)*deltaMini, len(deltas))]
		var all uint64
		for i, d := range mini {
			// The difference wraps for INT64 like the deltas themselves:
			// as unsigned it is the distance from the smallest delta.
			packed[i] = uint64(d - minDelta)
			all |= packed[i]
		}
		clear(packed[len(mini):])
		width := bits.Len64(all)
		e.blocks[widths+m] = byte(width)
		e.blocks = pack32(e.blocks, &packed, width)
	}
	e.nd = 0
}

// appendTo ends the page: it appends the header and the blocks.
func (e *deltaEncoder) appendTo(dst []byte) []byte {
	e.flushBlock()
	dst = binary.AppendUvarint(dst, deltaBlock)
	dst = binary.AppendUvarint(dst, deltaMiniblocks)
	dst = binary.AppendUvarint(dst, uint64(e.count))
	var first int64
	if e.count > 0 {
		first = e.first
	}
	dst = appendZigZag(dst, first)
	return append(dst, e.blocks...)
}

func appendZigZag(dst []byte, v int64) []byte {
	return binary.AppendUvarint(dst, uint64(v<<1)^uint64(v>>63))
}

// pack32 appends 32 values of width bits each, little-endian bit order:
// 4*width bytes.
func pack32(dst []byte, values *[deltaMini]uint64, width int) []byte {
	if width == 0 {
		return dst
	}
	start := len(dst)
	dst = grow(dst, 4*width)[:start+4*width]
	out := dst[start:]
	w := uint(width)
	var acc uint64
	var n uint // bits in acc
	o := 0
	for _, v := range values {
		acc |= v << n
		n += w
		if n >= 64 {
			binary.LittleEndian.PutUint64(out[o:], acc)
			o += 8
			n -= 64
			// the n high bits of v that did not fit (none when n is 0:
			// v has only w bits)
			acc = v >> (w - n)
		}
	}
	if n > 0 { // 32 values of an odd width end half way through a word
		binary.LittleEndian.PutUint32(out[o:], uint32(acc))
	}
	return dst
}
