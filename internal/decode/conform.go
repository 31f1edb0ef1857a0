package decode

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// ConformArray converts arr to type to, allocating from ctx's allocator
// (compute.WithAllocator; the default one otherwise). Structs are matched
// field by field by name, whatever their order (a table's struct has
// fields added at its end, a file's may have them anywhere), a nullable
// field arr lacks is null; everything else is a safe cast, which fails on
// a value to cannot hold exactly (an overflow, a dropped fraction).
//
// Nested types and nulls are rebuilt here rather than cast by arrow's
// compute: its list cast panics on some (a list of nulls), in a goroutine
// no recover reaches, which would take the worker down with the file.
func ConformArray(ctx context.Context, arr arrow.Array, to arrow.DataType) (arrow.Array, error) {
	mem := compute.GetAllocator(ctx)
	if arrow.TypeEqual(arr.DataType(), to) {
		return rebuild(arr.Data(), to), nil
	}
	if arr.DataType().ID() == arrow.NULL {
		return array.MakeArrayOfNull(mem, to, arr.Len()), nil
	}
	switch to.ID() {
	case arrow.LIST, arrow.MAP:
		return conformList(ctx, arr, to)
	}
	st, ok := to.(*arrow.StructType)
	src, isStruct := arr.(*array.Struct)
	if !ok || !isStruct {
		if arrow.IsNested(arr.DataType().ID()) || arrow.IsNested(to.ID()) {
			return nil, fmt.Errorf("a %s cannot become a %s", arr.DataType(), to)
		}
		if to.ID() == arrow.STRING && !isStringType(arr.DataType().ID()) && !isBinaryType(arr.DataType().ID()) {
			return scalarsAsText(mem, arr), nil
		}
		return compute.CastArray(ctx, arr, compute.SafeCastOptions(to))
	}
	if src.Offset() != 0 {
		// A slice: compact it first, so children, validity and the new
		// struct all start at 0.
		compact, err := array.Concatenate([]arrow.Array{src}, mem)
		if err != nil {
			return nil, fmt.Errorf("copying a struct slice: %w", err)
		}
		defer compact.Release()
		src = compact.(*array.Struct)
	}
	from := src.DataType().(*arrow.StructType)
	children := make([]arrow.Array, st.NumFields())
	defer func() {
		for _, c := range children {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, f := range st.Fields() {
		j, found := from.FieldIdx(f.Name)
		if !found {
			if !f.Nullable {
				return nil, fmt.Errorf("struct field %q is missing", f.Name)
			}
			children[i] = array.MakeArrayOfNull(mem, f.Type, src.Len())
			continue
		}
		// Field is already sliced to the struct's offset and length.
		child, err := ConformArray(ctx, src.Field(j), f.Type)
		if err != nil {
			return nil, fmt.Errorf("struct field %q: %w", f.Name, err)
		}
		children[i] = child
	}
	var validity *memory.Buffer
	if src.NullN() > 0 {
		bits := make([]byte, bitutil.BytesForBits(int64(src.Len())))
		copy(bits, src.NullBitmapBytes())
		validity = memory.NewBufferBytes(bits)
	}
	data := array.NewData(st, src.Len(), []*memory.Buffer{validity}, dataOf(children), src.NullN(), 0)
	defer data.Release()
	return array.MakeFromData(data), nil
}

// scalarsAsText writes each value as its text, as a string column from
// CSV would hold it. arrow's own cast to string leaks a buffer per call.
func scalarsAsText(mem memory.Allocator, arr arrow.Array) arrow.Array {
	b := array.NewStringBuilder(mem)
	defer b.Release()
	b.Reserve(arr.Len())
	for i := range arr.Len() {
		if arr.IsNull(i) {
			b.AppendNull()
			continue
		}
		b.Append(arr.ValueStr(i))
	}
	return b.NewArray()
}

func dataOf(arrs []arrow.Array) []arrow.ArrayData {
	out := make([]arrow.ArrayData, len(arrs))
	for i, a := range arrs {
		out[i] = a.Data()
	}
	return out
}

// rebuild is data under type to (equal but for names or metadata).
func rebuild(data arrow.ArrayData, to arrow.DataType) arrow.Array {
	d := array.NewData(to, data.Len(), data.Buffers(), data.Children(), data.NullN(), data.Offset())
	defer d.Release()
	return array.MakeFromData(d)
}

// conformList converts a list (or map) to the list or map type to: its
// offsets and validity are kept, its values converted.
func conformList(ctx context.Context, arr arrow.Array, to arrow.DataType) (arrow.Array, error) {
	srcID := arr.DataType().ID()
	if srcID != arrow.LIST && srcID != arrow.MAP {
		if srcID == arrow.LARGE_LIST || srcID == arrow.FIXED_SIZE_LIST || srcID == arrow.LIST_VIEW {
			return nil, fmt.Errorf("converting %s to %s is not supported", arr.DataType(), to)
		}
		return nil, fmt.Errorf("a %s cannot become a %s", arr.DataType(), to)
	}
	data := arr.Data()
	if data.Offset() != 0 {
		compact, err := array.Concatenate([]arrow.Array{arr}, compute.GetAllocator(ctx))
		if err != nil {
			return nil, fmt.Errorf("copying a list slice: %w", err)
		}
		defer compact.Release()
		data = compact.Data()
	}
	values := array.MakeFromData(data.Children()[0])
	defer values.Release()
	var elem arrow.DataType
	switch t := to.(type) {
	case *arrow.MapType:
		elem = t.Elem()
	case *arrow.ListType:
		elem = t.Elem()
	}
	conv, err := ConformArray(ctx, values, elem)
	if err != nil {
		return nil, fmt.Errorf("list element: %w", err)
	}
	defer conv.Release()
	d := array.NewData(to, data.Len(), data.Buffers(), []arrow.ArrayData{conv.Data()}, data.NullN(), 0)
	defer d.Release()
	return array.MakeFromData(d), nil
}
