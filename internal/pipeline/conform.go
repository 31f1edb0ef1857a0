package pipeline

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/s3load/s3load/internal/decode"
)

// conformer turns decoded batches into the write schema a table format
// asked for (Iceberg: its types and field IDs): columns whose type
// already matches pass unchanged, others are cast, and a value the write
// type cannot hold exactly (a nanosecond a microsecond timestamp would
// drop) fails the file, naming the column.
type conformer struct {
	to   *arrow.Schema
	from []int  // decoded column of each write column
	cast []bool // whether that column's type differs
}

func newConformer(decoded, write *arrow.Schema) (*conformer, error) {
	c := &conformer{to: write, from: make([]int, write.NumFields()), cast: make([]bool, write.NumFields())}
	for i, f := range write.Fields() {
		idx := decoded.FieldIndices(f.Name)
		if len(idx) != 1 {
			return nil, fmt.Errorf("the table's write schema has column %q, which the decoded schema has %d times", f.Name, len(idx))
		}
		c.from[i] = idx[0]
		c.cast[i] = !arrow.TypeEqual(decoded.Field(idx[0]).Type, f.Type)
	}
	return c, nil
}

// apply returns rec in the write schema; the caller releases both.
func (c *conformer) apply(ctx context.Context, file string, rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	cols := make([]arrow.Array, len(c.from))
	defer func() {
		for i, a := range cols {
			if a != nil && c.cast[i] {
				a.Release()
			}
		}
	}()
	for i, j := range c.from {
		col := rec.Column(j)
		if !c.cast[i] {
			cols[i] = col
			continue
		}
		out, err := conformArray(ctx, col, c.to.Field(i).Type)
		if err != nil {
			return nil, &decode.DataError{File: file, Column: c.to.Field(i).Name,
				Err: fmt.Errorf("converting %s to the table's %s: %w", col.DataType(), c.to.Field(i).Type, err)}
		}
		cols[i] = out
	}
	return array.NewRecordBatch(c.to, cols, rec.NumRows()), nil
}

// conformArray converts arr to type to. Structs are matched field by field
// by name, whatever their order (a table's struct has fields added at its
// end, a file's may have them anywhere); everything else is a safe cast.
//
// Nested types and nulls are rebuilt here rather than cast by arrow's
// compute: its list cast panics on some (a list of nulls), in a goroutine
// no recover reaches, which would take the worker down with the file.
func conformArray(ctx context.Context, arr arrow.Array, to arrow.DataType) (arrow.Array, error) {
	if arrow.TypeEqual(arr.DataType(), to) {
		return rebuild(arr.Data(), to), nil
	}
	if arr.DataType().ID() == arrow.NULL {
		return array.MakeArrayOfNull(memory.DefaultAllocator, to, arr.Len()), nil
	}
	switch to.ID() {
	case arrow.LIST, arrow.MAP:
		return conformList(ctx, arr, to)
	}
	st, ok := to.(*arrow.StructType)
	src, isStruct := arr.(*array.Struct)
	if !ok || !isStruct {
		return compute.CastArray(ctx, arr, compute.SafeCastOptions(to))
	}
	if src.Offset() != 0 {
		// A slice: compact it first, so children, validity and the new
		// struct all start at 0.
		compact, err := array.Concatenate([]arrow.Array{src}, memory.DefaultAllocator)
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
			return nil, fmt.Errorf("struct field %q is missing", f.Name)
		}
		// Field is already sliced to the struct's offset and length.
		child, err := conformArray(ctx, src.Field(j), f.Type)
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
		compact, err := array.Concatenate([]arrow.Array{arr}, memory.DefaultAllocator)
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
	conv, err := conformArray(ctx, values, elem)
	if err != nil {
		return nil, fmt.Errorf("list element: %w", err)
	}
	defer conv.Release()
	d := array.NewData(to, data.Len(), data.Buffers(), []arrow.ArrayData{conv.Data()}, data.NullN(), 0)
	defer d.Release()
	return array.MakeFromData(d), nil
}
