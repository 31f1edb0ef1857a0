package flatparquet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// deltaDecoder decodes a DELTA_BINARY_PACKED stream (see delta.go for the
// layout) 32 values at a time, so nothing is allocated however many
// values the header claims. It checks what arrow-go's decoder checks.
type deltaDecoder struct {
	data     []byte
	pos      int
	maxWidth int // 32 for INT32 (and byte array lengths), 64 for INT64
	perMini  int
	minis    int
	left     int // values not yet put in buf
	last     uint64
	minDelta uint64
	widths   []byte // the current block's miniblock widths
	mini     int    // next miniblock of the block
	miniLeft int    // values left in the current miniblock
	width    int
	buf      [32]uint64
	bufPos   int
	bufLen   int
}

// init reads the header. The stream holds at most limit values (the
// page's count); an empty stream holds none.
func (d *deltaDecoder) init(data []byte, maxWidth, limit int) error {
	*d = deltaDecoder{data: data, maxWidth: maxWidth}
	if len(data) == 0 {
		return nil
	}
	var hdr [3]uint64
	for i := range hdr {
		v, n := binary.Uvarint(data[d.pos:])
		if n <= 0 {
			return errors.New("DELTA_BINARY_PACKED header truncated")
		}
		hdr[i] = v
		d.pos += n
	}
	block, minis, count := hdr[0], hdr[1], hdr[2]
	if block == 0 || block%128 != 0 || block > math.MaxUint32 {
		return fmt.Errorf("DELTA_BINARY_PACKED block of %d values: not a positive multiple of 128", block)
	}
	if minis == 0 || block%minis != 0 || (block/minis)%32 != 0 {
		return fmt.Errorf("DELTA_BINARY_PACKED block of %d values in %d miniblocks: not multiples of 32", block, minis)
	}
	if count > uint64(limit) {
		return fmt.Errorf("DELTA_BINARY_PACKED header claims %d values, the page %d", count, limit)
	}
	first, n := binary.Varint(data[d.pos:])
	if n <= 0 {
		return errors.New("DELTA_BINARY_PACKED header truncated")
	}
	d.pos += n
	if maxWidth == 32 && (first < math.MinInt32 || first > math.MaxInt32) {
		return fmt.Errorf("DELTA_BINARY_PACKED first value %d exceeds INT32", first)
	}
	d.perMini, d.minis = int(block/minis), int(minis)
	if count > 0 {
		d.last = uint64(first)
		d.buf[0], d.bufLen = d.last, 1
		d.left = int(count) - 1
	}
	return nil
}

// block reads a block's header: its smallest delta and miniblock widths.
func (d *deltaDecoder) block() error {
	md, n := binary.Varint(d.data[d.pos:])
	if n <= 0 {
		return errors.New("DELTA_BINARY_PACKED block header truncated")
	}
	if d.maxWidth == 32 && (md < math.MinInt32 || md > math.MaxInt32) {
		return fmt.Errorf("DELTA_BINARY_PACKED minimum delta %d exceeds INT32", md)
	}
	d.pos += n
	if len(d.data)-d.pos < d.minis {
		return errors.New("DELTA_BINARY_PACKED block header truncated")
	}
	d.minDelta = uint64(md)
	d.widths = d.data[d.pos : d.pos+d.minis]
	d.pos += d.minis
	d.mini = 0
	return nil
}

// startMini moves to the next miniblock.
func (d *deltaDecoder) startMini() error {
	if d.widths == nil || d.mini == len(d.widths) {
		if err := d.block(); err != nil {
			return err
		}
	}
	d.width = int(d.widths[d.mini])
	if d.width > d.maxWidth {
		return fmt.Errorf("DELTA_BINARY_PACKED bit width %d exceeds %d", d.width, d.maxWidth)
	}
	d.mini++
	d.miniLeft = d.perMini
	return nil
}

// fill decodes the next (up to) 32 values into buf. Arithmetic wraps at
// 64 bits; for INT32 the low 32 bits are what 32-bit arithmetic gives.
func (d *deltaDecoder) fill() error {
	if d.miniLeft == 0 {
		if err := d.startMini(); err != nil {
			return err
		}
	}
	size := 4 * d.width // 32 values
	if len(d.data)-d.pos < size {
		return errors.New("DELTA_BINARY_PACKED miniblock truncated")
	}
	n := min(32, d.left)
	unpack64(d.buf[:n], d.data[d.pos:d.pos+size], d.width)
	d.pos += size
	d.miniLeft -= 32
	last, md := d.last, d.minDelta
	for i, v := range d.buf[:n] {
		last += md + v
		d.buf[i] = last
	}
	d.last = last
	d.bufPos, d.bufLen = 0, n
	d.left -= n
	return nil
}

// next returns the next value.
func (d *deltaDecoder) next() (uint64, error) {
	if d.bufPos == d.bufLen {
		if d.left == 0 {
			return 0, errors.New("DELTA_BINARY_PACKED values exhausted")
		}
		if err := d.fill(); err != nil {
			return 0, err
		}
	}
	v := d.buf[d.bufPos]
	d.bufPos++
	return v, nil
}

// deltaRead decodes len(dst) values.
func deltaRead[T int32 | int64](d *deltaDecoder, dst []T) error {
	for len(dst) > 0 {
		if d.bufPos == d.bufLen {
			if d.left == 0 {
				return errors.New("DELTA_BINARY_PACKED values exhausted")
			}
			if err := d.fill(); err != nil {
				return err
			}
		}
		n := min(len(dst), d.bufLen-d.bufPos)
		for i, v := range d.buf[d.bufPos : d.bufPos+n] {
			dst[i] = T(v)
		}
		d.bufPos += n
		dst = dst[n:]
	}
	return nil
}

// end is where the stream ends in its data, found by walking the block
// headers from a freshly initialized decoder (byte array lengths are
// followed by other data). Every block costs at least a byte per
// miniblock, so the walk is bounded by the data, not the claimed count.
func (d deltaDecoder) end() (int, error) {
	for d.left > 0 {
		if d.miniLeft == 0 {
			if err := d.startMini(); err != nil {
				return 0, err
			}
		}
		n := min(d.miniLeft, d.left)
		d.left -= n
		d.miniLeft -= n
		d.pos += d.perMini / 8 * d.width // a miniblock is stored whole
		if d.pos > len(d.data) {
			return 0, errors.New("DELTA_BINARY_PACKED miniblock truncated")
		}
		d.miniLeft = 0
	}
	return d.pos, nil
}

// lengths starts d on a block of nv byte-array lengths (32-bit deltas) at
// data's start and returns where the block ends: the byte-array encodings
// keep their values after it.
func (d *deltaDecoder) lengths(data []byte, nv int) (int, error) {
	if err := d.init(data, 32, nv); err != nil {
		return 0, err
	}
	return d.end()
}
