package flatparquet

import (
	"encoding/binary"

	"github.com/apache/arrow-go/v18/arrow/bitutil"
)

// defLevels gathers the definition levels of one page of a nullable
// top-level column: with a maximum level of 1 a row's level is its
// validity bit, so the levels are the Arrow validity bitmap itself.
type defLevels struct {
	rows, nulls int
	// bits is the page's validity, kept only from the first null on: a
	// page without nulls is one RLE run and needs no bitmap.
	bits   []byte
	mapped bool
}

func (d *defLevels) reset() {
	d.rows, d.nulls, d.mapped = 0, 0, false
	d.bits = d.bits[:0]
}

// add appends n rows whose validity starts at bit off of valid (nil: all
// valid), nulls of them null.
func (d *defLevels) add(valid []byte, off, n, nulls int) {
	if nulls == 0 && !d.mapped {
		d.rows += n
		return
	}
	d.bits = growBits(d.bits, d.rows+n)
	if !d.mapped {
		bitutil.SetBitsTo(d.bits, 0, int64(d.rows), true)
		d.mapped = true
	}
	if nulls == 0 {
		bitutil.SetBitsTo(d.bits, int64(d.rows), int64(n), true)
	} else {
		bitutil.CopyBitmap(valid, off, n, d.bits, d.rows)
	}
	d.rows += n
	d.nulls += nulls
}

// appendTo appends the levels as a V1 data page starts: their byte length
// (4 bytes, little-endian), then the RLE/bit-packed hybrid of bit width 1.
// A page all valid or all null is one RLE run; any other is one
// bit-packed run, whose groups of 8 levels are the validity bytes.
func (d *defLevels) appendTo(dst []byte) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	switch {
	case d.rows == 0:
	case d.nulls == 0 || d.nulls == d.rows:
		var level byte
		if d.nulls == 0 {
			level = 1
		}
		dst = binary.AppendUvarint(dst, uint64(d.rows)<<1)
		dst = append(dst, level)
	default:
		groups := (d.rows + 7) / 8
		dst = binary.AppendUvarint(dst, uint64(groups)<<1|1)
		dst = append(dst, d.bits[:groups]...)
	}
	binary.LittleEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return dst
}

// growBits extends b to hold n bits. The bytes it adds are zeroed: bits
// are then only ever set within their range, so padding bits stay zero.
func growBits(b []byte, n int) []byte {
	need := (n + 7) / 8
	if need <= len(b) {
		return b
	}
	old := len(b)
	b = grow(b, need-old)[:need]
	clear(b[old:])
	return b
}
