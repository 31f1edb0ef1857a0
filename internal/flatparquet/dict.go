package flatparquet

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/parquet/file"
)

// dictEncoder encodes one column chunk's byte arrays as indices into a
// dictionary of the distinct values, as arrow-go's column writer does when
// dictionaries are enabled (and parquet-mr's FallbackValuesWriter): the
// data pages hold each value's index, bit-packed, and wait in memory until
// the chunk's dictionary page is written before them; a page ends when its
// values would have filled a PLAIN page. When the dictionary reaches the
// dictionary page size limit the chunk falls back to PLAIN: the dictionary
// and the pages before are written if a page was, else the dictionary is
// dropped, and the current page and the rest of the chunk are PLAIN.
//
// It is worth it for columns of few distinct values (a city, a status, a
// country): each value becomes a few bits before zstd, which costs less
// than zstd finding the repeated strings itself, and a page's min and max
// are taken over the distinct values it uses rather than value by value.
type dictEncoder struct {
	seed maphash.Seed
	// slots is an open-addressing table of the entries: the value's hash
	// in the high 32 bits, its entry index + 1 in the low (0: empty).
	slots   []uint64
	entries []dictEntry
	plain   []byte // the dictionary page: the entries PLAIN, in order

	indices []uint32 // the current data page's
	raw     int      // the current page's values' PLAIN size
	// seen is the data page each entry was last used in, so a page's
	// statistics compare each of its distinct values once.
	seen     []uint32
	pageNo   uint32
	min, max int32 // the current page's least and greatest entry, -1 if none

	costCheck bool // arrow-go's cost check is asked for (WithDictionaryCostFallbackFor)

	pending []pendingPage // data pages written before the dictionary page
	written bool          // the chunk's dictionary page is written
	plainOn bool          // fell back: the rest of the chunk is PLAIN
}

// dictEntry is where an entry's bytes lie in plain (ints, not uint32: a
// batch of long values may take a dictionary past 4 GiB before the limit
// is checked).
type dictEntry struct{ start, len int }

// pendingPage is a compressed data page waiting for its dictionary page.
type pendingPage struct {
	data []byte
	cfg  file.DataPageConfig
}

func newDictEncoder(costCheck bool) *dictEncoder {
	return &dictEncoder{seed: maphash.MakeSeed(), min: -1, max: -1, costCheck: costCheck}
}

// reset empties the encoder for the next column chunk, keeping its
// memory.
func (d *dictEncoder) reset() {
	clear(d.slots)
	d.entries = d.entries[:0]
	d.plain = d.plain[:0]
	d.indices = d.indices[:0]
	d.seen = d.seen[:0]
	d.pageNo++
	d.min, d.max = -1, -1
	for i := range d.pending {
		d.pending[i] = pendingPage{}
	}
	d.pending = d.pending[:0]
	d.raw = 0
	d.written, d.plainOn = false, false
}

// size is the dictionary page's size so far, compared with the dictionary
// page size limit as arrow-go compares it.
func (d *dictEncoder) size() int { return len(d.plain) }

// entry is the bytes of entry i.
func (d *dictEncoder) entry(i int32) []byte {
	e := d.entries[i]
	return d.plain[e.start : e.start+e.len]
}

// putDict adds the valid values among offs (the n+1 offsets of n values into
// data; validity from bit off of valid, nil if all valid) to the page.
func putDict[O int32 | int64](d *dictEncoder, data []byte, offs []O, valid []byte, off int) {
	n := len(offs) - 1
	d.indices = grow(d.indices, n)
	for i := range n {
		if valid != nil && !bitutil.BitIsSet(valid, off+i) {
			continue
		}
		v := data[offs[i]:offs[i+1]]
		d.raw += 4 + len(v)
		d.indices = append(d.indices, d.index(v))
	}
}

// index is v's entry, added if new, and notes it in the page's min and
// max the first time the page uses it.
func (d *dictEncoder) index(v []byte) uint32 {
	if len(d.entries)*2 >= len(d.slots) {
		d.rehash()
	}
	h := maphash.Bytes(d.seed, v)
	tag := h &^ (1<<32 - 1)
	mask := uint64(len(d.slots) - 1)
	s := h & mask
	for {
		slot := d.slots[s]
		if slot == 0 {
			break
		}
		if slot&^(1<<32-1) == tag {
			i := int32(slot) - 1
			if bytes.Equal(d.entry(i), v) {
				if d.seen[i] != d.pageNo {
					d.note(i)
				}
				return uint32(i)
			}
		}
		s = (s + 1) & mask
	}
	i := int32(len(d.entries))
	d.slots[s] = tag | uint64(i+1)
	d.plain = binary.LittleEndian.AppendUint32(d.plain, uint32(len(v)))
	d.entries = append(d.entries, dictEntry{start: len(d.plain), len: len(v)})
	d.plain = append(d.plain, v...)
	d.seen = append(d.seen, ^d.pageNo)
	d.note(i)
	return uint32(i)
}

// note marks entry i used by the current page and takes it into the
// page's min and max.
func (d *dictEncoder) note(i int32) {
	d.seen[i] = d.pageNo
	v := d.entry(i)
	if d.min < 0 || bytes.Compare(v, d.entry(d.min)) < 0 {
		d.min = i
	}
	if d.max < 0 || bytes.Compare(v, d.entry(d.max)) > 0 {
		d.max = i
	}
}

// rehash doubles the table (16 slots at first).
func (d *dictEncoder) rehash() {
	n := max(16, 2*len(d.slots))
	slots := make([]uint64, n)
	mask := uint64(n - 1)
	for i := range d.entries {
		h := maphash.Bytes(d.seed, d.entry(int32(i)))
		s := h & mask
		for slots[s] != 0 {
			s = (s + 1) & mask
		}
		slots[s] = h&^(1<<32-1) | uint64(i+1)
	}
	d.slots = slots
}

// endPage starts a new page: its indices and min and max start empty.
func (d *dictEncoder) endPage() {
	d.indices = d.indices[:0]
	d.raw = 0
	d.pageNo++
	d.min, d.max = -1, -1
}

// width is the bits an index takes: enough for every entry, at least 1.
func (d *dictEncoder) width() int {
	if len(d.entries) <= 1 {
		return 1
	}
	return bits.Len32(uint32(len(d.entries) - 1))
}

// encodedSize is arrow-go's estimate of the page's indices once encoded
// (its dictEncoder.EstimatedDataEncodedSize: the RLE encoder's worst
// case), which its cost check compares with the values' PLAIN size.
func (d *dictEncoder) encodedSize() int {
	w := 0 // arrow-go's bit width: 0 for an empty dictionary
	if len(d.entries) > 0 {
		w = d.width()
	}
	groups := (len(d.indices) + 7) / 8
	minRLE := max(1+(512*w+7)/8, 5+(w+7)/8)
	return 1 + groups*(1+w) + minRLE
}

// bitPackedRunMax is the values of the longest bit-packed run written: 63
// groups of 8, whose header fits in one byte, as parquet-mr writes them.
const bitPackedRunMax = 63 * 8

// appendPlain appends the page's values PLAIN, as they came.
func (d *dictEncoder) appendPlain(dst []byte) []byte {
	dst = grow(dst, d.raw)
	for _, i := range d.indices {
		v := d.entry(int32(i))
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(v)))
		dst = append(dst, v...)
	}
	return dst
}

// appendIndices appends the page's indices as a dictionary data page's
// values are laid out: the bit width in one byte, then the indices in
// the RLE/bit-packing hybrid, here bit-packed runs only (zstd takes care
// of repeats).
func (d *dictEncoder) appendIndices(dst []byte) []byte {
	w := d.width()
	dst = append(dst, byte(w))
	return appendBitPacked(dst, d.indices, w)
}

// appendBitPacked appends v in bit-packed runs of width bits a value, the
// last group of 8 padded with zeros. The values are packed 32 at a time by
// the DELTA encoder's pack32 (the same least-significant-bit-first order);
// a run's last block is cut back to the run's groups, its bytes past them
// holding only the padding.
func appendBitPacked(dst []byte, v []uint32, width int) []byte {
	var block [deltaMini]uint64
	for len(v) > 0 {
		n := min(len(v), bitPackedRunMax)
		groups := (n + 7) / 8
		dst = append(dst, byte(groups<<1|1))
		end := len(dst) + groups*width
		for run := v[:n]; len(run) > 0; {
			k := min(len(run), deltaMini)
			for i, x := range run[:k] {
				block[i] = uint64(x)
			}
			clear(block[k:])
			dst = pack32(dst, &block, width)
			run = run[k:]
		}
		dst = dst[:end]
		v = v[n:]
	}
	return dst
}
