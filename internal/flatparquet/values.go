package flatparquet

import (
	"fmt"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
)

// Values are read from the Arrow buffers as they lie in memory: Arrow and
// Parquet PLAIN are both little-endian, as are the machines s3load runs on.

// fixedValues is the n values of a fixed-width array from its value off
// (the array's offset included).
func fixedValues[T any](data arrow.ArrayData, off, n int) ([]T, error) {
	if n == 0 {
		return nil, nil
	}
	b, err := buffer(data, 1)
	if err != nil {
		return nil, err
	}
	size := int(unsafe.Sizeof(*new(T)))
	if len(b) < (off+n)*size {
		return nil, fmt.Errorf("value buffer of %d bytes holds no values %d to %d", len(b), off, off+n)
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/size)[off : off+n], nil
}

// buffer is data's buffer i, which must be there.
func buffer(data arrow.ArrayData, i int) ([]byte, error) {
	bufs := data.Buffers()
	if len(bufs) <= i || bufs[i] == nil {
		return nil, fmt.Errorf("%s array without buffer %d", data.DataType(), i)
	}
	return bufs[i].Bytes(), nil
}

// offsets is the n+1 offsets of a binary array's values off to off+n,
// checked against its data buffer.
func offsets[O int32 | int64](data arrow.ArrayData, off, n int) ([]O, []byte, error) {
	offs, err := fixedValues[O](data, off, n+1)
	if err != nil {
		return nil, nil, err
	}
	var values []byte
	if bufs := data.Buffers(); len(bufs) > 2 && bufs[2] != nil {
		values = bufs[2].Bytes()
	}
	if offs[0] < 0 || offs[n] < offs[0] || int64(offs[n]) > int64(len(values)) {
		return nil, nil, fmt.Errorf("offsets %d to %d outside a data buffer of %d bytes", offs[0], offs[n], len(values))
	}
	return offs, values, nil
}

// validValues is the valid values among the n values of a fixed-width
// array from value off: the array's own memory when none is null (valid
// is nil), else a copy in *scratch.
func validValues[T any](data arrow.ArrayData, off, n int, valid []byte, scratch *[]T) ([]T, error) {
	v, err := fixedValues[T](data, off, n)
	if err != nil || valid == nil {
		return v, err
	}
	*scratch = compact(v, valid, off, *scratch)
	return *scratch, nil
}

// compact copies the valid values of v (whose validity starts at bit off
// of valid) to dst.
func compact[T any](v []T, valid []byte, off int, dst []T) []T {
	dst = dst[:0]
	for i := range v {
		if bitutil.BitIsSet(valid, off+i) {
			dst = append(dst, v[i])
		}
	}
	return dst
}

// widen returns the valid values of v as INT32, into dst.
func widen[S int8 | uint8 | int16 | uint16](v []S, valid []byte, off int, dst []int32) []int32 {
	if valid == nil {
		dst = grow(dst[:0], len(v))[:len(v)]
		for i, x := range v {
			dst[i] = int32(x)
		}
		return dst
	}
	dst = dst[:0]
	for i, x := range v {
		if bitutil.BitIsSet(valid, off+i) {
			dst = append(dst, int32(x))
		}
	}
	return dst
}

// asBytes is v's memory.
func asBytes[T int32 | int64 | float32 | float64](v []T) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), len(v)*int(unsafe.Sizeof(*new(T))))
}

func asUint32(v []int32) []uint32 {
	return unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(v))), len(v))
}

func asUint64(v []int64) []uint64 {
	return unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(v))), len(v))
}
