package flatparquet

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
)

// Byte arrays are read in two passes so the batch's data buffer is
// allocated once at its exact size: while pages are decoded each value is
// only located (where it starts in its source, and its length); at the
// end the lengths give the offsets and the size, and the values are
// copied. A value's source is the dictionary, the current page (valid
// until the next page is read, so its values are staged when the batch
// moves on), or the staging buffer.

type source uint8

const (
	srcDict source = iota
	srcPage
	srcStage
)

// segment is n consecutive values of the batch from one source.
type segment struct {
	src source
	n   int
}

func (r *ColumnReader) startBinary() {
	r.segs = r.segs[:0]
	r.starts = r.starts[:0]
	r.lens = r.lens[:0]
	r.stage = r.stage[:0]
}

func (r *ColumnReader) addSegment(src source, n int) {
	if l := len(r.segs); l > 0 && r.segs[l-1].src == src {
		r.segs[l-1].n += n
		return
	}
	r.segs = append(r.segs, segment{src: src, n: n})
}

// stagePage copies the batch's values from the current page to the
// staging buffer before the page is replaced: they are the last segment.
func (r *ColumnReader) stagePage() error {
	l := len(r.segs)
	if l == 0 || r.segs[l-1].src != srcPage {
		return nil
	}
	first := len(r.starts) - r.segs[l-1].n
	if len(r.stage)+r.pos > maxBatchBytes {
		return fmt.Errorf("byte arrays of a batch over %d bytes", maxBatchBytes)
	}
	for j := first; j < len(r.starts); j++ {
		s := r.starts[j]
		r.starts[j] = uint32(len(r.stage))
		r.stage = append(r.stage, r.data[s:s+r.lens[j]]...)
	}
	r.segs[l-1].src = srcStage
	return nil
}

// readBinaryValues locates the page's next k values.
func (r *ColumnReader) readBinaryValues(k int) error {
	if k == 0 {
		return nil
	}
	base := len(r.starts)
	r.starts = grow(r.starts, k)[:base+k]
	r.lens = grow(r.lens, k)[:base+k]
	starts, lens := r.starts[base:], r.lens[base:]
	switch r.enc {
	case parquet.Encodings.RLEDict:
		idx, err := r.indices(k)
		if err != nil {
			return err
		}
		offs := r.dictOffs
		for j, x := range idx {
			s := offs[x]
			starts[j], lens[j] = s, offs[x+1]-s
		}
		r.addSegment(srcDict, k)
	case parquet.Encodings.Plain:
		data, pos := r.data, r.pos
		for j := range k {
			if len(data)-pos < 4 {
				return errors.New("PLAIN byte array length truncated")
			}
			l := binary.LittleEndian.Uint32(data[pos:])
			pos += 4
			if uint64(l) > uint64(len(data)-pos) {
				return fmt.Errorf("PLAIN byte array of %d bytes past the page's end (%d bytes left)", l, len(data)-pos)
			}
			starts[j], lens[j] = uint32(pos), l
			pos += int(l)
		}
		r.pos = pos
		r.addSegment(srcPage, k)
	case parquet.Encodings.DeltaLengthByteArray:
		for j := range k {
			l, err := r.length(&r.delta)
			if err != nil {
				return fmt.Errorf("lengths: %w", err)
			}
			if l > len(r.data)-r.pos {
				return fmt.Errorf("byte array of %d bytes past the page's end (%d bytes left)", l, len(r.data)-r.pos)
			}
			starts[j], lens[j] = uint32(r.pos), uint32(l)
			r.pos += l
		}
		r.addSegment(srcPage, k)
	case parquet.Encodings.DeltaByteArray:
		return r.readDeltaByteArrays(starts, lens)
	default:
		return r.unsupported(r.enc)
	}
	return nil
}

// length is the next value of a byte array lengths stream.
func (r *ColumnReader) length(d *deltaDecoder) (int, error) {
	v, err := d.next()
	if err != nil {
		return 0, err
	}
	if l := int32(v); l >= 0 {
		return int(l), nil
	}
	return 0, fmt.Errorf("negative length %d", int32(v))
}

// readDeltaByteArrays builds DELTA_BYTE_ARRAY values (a prefix of the
// previous value, then a suffix) in the staging buffer.
func (r *ColumnReader) readDeltaByteArrays(starts, lens []uint32) error {
	for j := range starts {
		p, err := r.length(&r.prefix)
		if err != nil {
			return fmt.Errorf("prefix lengths: %w", err)
		}
		s, err := r.length(&r.delta)
		if err != nil {
			return fmt.Errorf("suffix lengths: %w", err)
		}
		if p > len(r.prev) {
			return fmt.Errorf("prefix of %d bytes of a previous value of %d", p, len(r.prev))
		}
		if s > len(r.data)-r.pos {
			return fmt.Errorf("suffix of %d bytes past the page's end (%d bytes left)", s, len(r.data)-r.pos)
		}
		if r.dbaLen += p + s; r.dbaLen > maxDeltaPageBytes {
			return fmt.Errorf("DELTA_BYTE_ARRAY page decodes to over %d bytes", maxDeltaPageBytes)
		}
		if len(r.stage)+p+s > maxBatchBytes {
			return fmt.Errorf("byte arrays of a batch over %d bytes", maxBatchBytes)
		}
		at := len(r.stage)
		r.stage = append(r.stage, r.prev[:p]...)
		r.stage = append(r.stage, r.data[r.pos:r.pos+s]...)
		r.pos += s
		r.prev = append(r.prev[:0], r.stage[at:]...)
		starts[j], lens[j] = uint32(at), uint32(p+s)
	}
	r.addSegment(srcStage, len(starts))
	return nil
}

// finishBinary fills the offsets of a batch of rows (validity valid)
// and returns its data buffer, of the values' exact size.
func finishBinary[O int32 | int64](r *ColumnReader, offs []O, valid []byte, rows int) (*memory.Buffer, error) {
	var total int64
	for _, l := range r.lens {
		total += int64(l)
	}
	if total > maxBatchBytes {
		return nil, fmt.Errorf("%d rows hold %d bytes of byte arrays, over %d", rows, total, maxBatchBytes)
	}
	k := len(r.lens)
	offs[0] = 0
	var o O
	for j, l := range r.lens {
		o += O(l)
		offs[j+1] = o
	}
	buf := newBuf(r.mem, int(total))
	data := buf.Bytes()
	j := 0
	for _, sg := range r.segs {
		var src []byte
		switch sg.src {
		case srcDict:
			src = r.dictData
		case srcPage:
			src = r.data
		default:
			src = r.stage
		}
		for end := j + sg.n; j < end; j++ {
			s := r.starts[j]
			copy(data[offs[j]:offs[j+1]], src[s:s+r.lens[j]])
		}
	}
	// spread the offsets over the null rows, backwards as spread does
	if k < rows {
		j := k
		for i := rows - 1; i >= 0 && j < i+1; i-- {
			offs[i+1] = offs[j]
			if bitutil.BitIsSet(valid, i) {
				j--
			}
		}
	}
	return buf, nil
}
