package flatparquet

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
)

// readDictionary copies the chunk's dictionary out of its page (PLAIN
// values): fixed-width values as they are, byte arrays as one data buffer
// and offsets, so a value's length is known without reading it.
func (r *ColumnReader) readDictionary(p *file.DictionaryPage) error {
	if r.dict {
		return errors.New("a second dictionary page")
	}
	if enc := parquet.Encoding(p.Encoding()); enc != parquet.Encodings.Plain && enc != parquet.Encodings.PlainDict {
		return fmt.Errorf("dictionary encoded %s: only PLAIN is supported", enc)
	}
	n, data := int(p.NumValues()), p.Data()
	if n < 0 {
		return fmt.Errorf("%d values", n)
	}
	switch r.kind {
	case readFixed:
		if n > len(data)/r.pw {
			return fmt.Errorf("dictionary of %d values in %d bytes", n, len(data))
		}
		r.dictFixed = append(r.dictFixed[:0], data[:n*r.pw]...)
	case readBinary, readLargeBinary:
		if n > len(data)/4 {
			return fmt.Errorf("dictionary of %d values in %d bytes", n, len(data))
		}
		r.dictOffs = grow(r.dictOffs[:0], n+1)[:n+1]
		r.dictData = grow(r.dictData[:0], len(data)-4*n)[:0]
		pos := 0
		r.dictOffs[0] = 0
		for i := range n {
			if len(data)-pos < 4 {
				return fmt.Errorf("dictionary value %d truncated", i)
			}
			l := binary.LittleEndian.Uint32(data[pos:])
			pos += 4
			if uint64(l) > uint64(len(data)-pos) {
				return fmt.Errorf("dictionary value %d of %d bytes past the page's end", i, l)
			}
			r.dictData = append(r.dictData, data[pos:pos+int(l)]...)
			pos += int(l)
			r.dictOffs[i+1] = uint32(len(r.dictData))
		}
	default:
		return errors.New("dictionary-encoded booleans are not supported")
	}
	r.dict, r.dictN = true, n
	return nil
}

// indices decodes the page's next k dictionary indices into scratch.
func (r *ColumnReader) indices(k int) ([]uint32, error) {
	r.idx = grow(r.idx[:0], k)[:k]
	if err := r.runs.indices(r.idx, r.dictN); err != nil {
		if errors.Is(err, errRunsEnd) {
			return nil, fmt.Errorf("dictionary indices end before the page's %d values", r.nvals)
		}
		return nil, fmt.Errorf("dictionary indices: %w", err)
	}
	return r.idx, nil
}

// gather looks up idx (each checked against the dictionary) into dst.
func gather[T uint32 | uint64](dst, dict []T, idx []uint32) {
	dst = dst[:len(idx)]
	for i, x := range idx {
		dst[i] = dict[x]
	}
}
