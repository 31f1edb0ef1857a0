package flatparquet

import (
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/parquet"
)

// readFixed reads m rows, k of them valid, of a fixed-width column into
// vals (the batch's values buffer) from row at. The k values are decoded
// packed at the rows' start and then spread backwards over the null
// slots, which are zeroed; values narrowed to int8/16 are decoded into
// scratch first.
func (r *ColumnReader) readFixed(vals []byte, at, m, k int, valid []byte) error {
	if r.ow == r.pw {
		if err := r.decodeFixed(vals[at*r.pw:(at+k)*r.pw], k); err != nil {
			return err
		}
		if k < m {
			rows := vals[at*r.pw : (at+m)*r.pw]
			if r.pw == 4 {
				spread(arrow.Uint32Traits.CastFromBytes(rows), k, valid, at)
			} else {
				spread(arrow.Uint64Traits.CastFromBytes(rows), k, valid, at)
			}
		}
		return nil
	}
	r.conv = grow(r.conv[:0], 4*k)[:4*k]
	if err := r.decodeFixed(r.conv, k); err != nil {
		return err
	}
	src := arrow.Int32Traits.CastFromBytes(r.conv)
	rows := vals[at*r.ow : (at+m)*r.ow]
	if r.ow == 1 {
		narrow(rows[:k], src)
		spread(rows, k, valid, at)
	} else {
		dst := arrow.Uint16Traits.CastFromBytes(rows)
		narrow(dst[:k], src)
		spread(dst, k, valid, at)
	}
	return nil
}

// narrow converts INT32 values as pqarrow does: Go's conversion, which
// keeps the low bits.
func narrow[T uint8 | uint16](dst []T, src []int32) {
	for i, v := range src[:len(dst)] {
		dst[i] = T(v)
	}
}

// spread moves the first k of vals to the valid rows among len(vals)
// (validity from bit off of valid) and zeroes the others, working
// backwards so nothing is overwritten before it moves. Once the rows left
// are all valid they are already in place.
func spread[T uint8 | uint16 | uint32 | uint64](vals []T, k int, valid []byte, off int) {
	j := k - 1
	for i := len(vals) - 1; i > j; i-- {
		if bitutil.BitIsSet(valid, off+i) {
			vals[i] = vals[j]
			j--
		} else {
			vals[i] = 0
		}
	}
}

// decodeFixed decodes the page's next k values into dst (k Parquet
// values of pw bytes).
func (r *ColumnReader) decodeFixed(dst []byte, k int) error {
	if k == 0 {
		return nil
	}
	switch r.enc {
	case parquet.Encodings.Plain:
		need := k * r.pw
		if len(r.data)-r.pos < need {
			return fmt.Errorf("PLAIN values truncated: %d bytes left for %d values of %d bytes", len(r.data)-r.pos, k, r.pw)
		}
		copy(dst, r.data[r.pos:r.pos+need])
		r.pos += need
	case parquet.Encodings.RLEDict:
		idx, err := r.indices(k)
		if err != nil {
			return err
		}
		if r.pw == 4 {
			gather(arrow.Uint32Traits.CastFromBytes(dst), arrow.Uint32Traits.CastFromBytes(r.dictFixed), idx)
		} else {
			gather(arrow.Uint64Traits.CastFromBytes(dst), arrow.Uint64Traits.CastFromBytes(r.dictFixed), idx)
		}
	case parquet.Encodings.DeltaBinaryPacked:
		var err error
		if r.pw == 4 {
			err = deltaRead(&r.delta, arrow.Int32Traits.CastFromBytes(dst))
		} else {
			err = deltaRead(&r.delta, arrow.Int64Traits.CastFromBytes(dst))
		}
		if err != nil {
			return err
		}
	case parquet.Encodings.ByteStreamSplit:
		if r.nsplit-r.vi < k {
			return fmt.Errorf("BYTE_STREAM_SPLIT data holds %d values, the page's levels more", r.nsplit)
		}
		unsplit(dst, r.data, r.pw, r.nsplit, r.vi, k)
		r.vi += k
	default:
		return r.unsupported(r.enc)
	}
	return nil
}

// readBools reads m rows, k of them valid, of a boolean column into the
// bitmap vals from bit at, spreading the values like spread.
func (r *ColumnReader) readBools(vals []byte, at, m, k int, valid []byte) error {
	switch r.enc {
	case parquet.Encodings.Plain:
		if 8*len(r.data)-r.vi < k {
			return fmt.Errorf("PLAIN booleans truncated: %d bits left for %d values", 8*len(r.data)-r.vi, k)
		}
		bitutil.CopyBitmap(r.data, r.vi, k, vals, at)
		r.vi += k
	case parquet.Encodings.RLE:
		if _, err := r.runs.bits(vals, at, k); err != nil {
			if errors.Is(err, errRunsEnd) {
				return errors.New("RLE booleans end before the page's values")
			}
			return fmt.Errorf("RLE booleans: %w", err)
		}
	default:
		return r.unsupported(r.enc)
	}
	j := k - 1
	for i := m - 1; i > j; i-- {
		if bitutil.BitIsSet(valid, at+i) {
			bitutil.SetBitTo(vals, at+i, bitutil.BitIsSet(vals, at+j))
			j--
		} else {
			bitutil.ClearBit(vals, at+i)
		}
	}
	return nil
}
