package pipeline

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// A struct whose fields a file orders otherwise than the table is matched
// by name, nulls and offsets kept; the nested values are cast where their
// type differs.
func TestConformStructByName(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	from := arrow.StructOf(
		arrow.Field{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	)
	to := arrow.StructOf(
		arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		arrow.Field{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true},
	)
	bld := array.NewStructBuilder(mem, from)
	defer bld.Release()
	for i, ok := range []bool{true, false, true, true} {
		if !ok {
			bld.AppendNull() // its fields get nulls too
			continue
		}
		bld.Append(true)
		bld.FieldBuilder(0).(*array.StringBuilder).Append(string(rune('w' + i)))
		bld.FieldBuilder(1).(*array.Int32Builder).Append(int32(i * 10))
	}
	whole := bld.NewArray()
	defer whole.Release()
	arr := array.NewSlice(whole, 1, 4) // an offset, as a batch's slice has
	defer arr.Release()
	got, err := conformArray(context.Background(), arr, to)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Release()
	st := got.(*array.Struct)
	if !arrow.TypeEqual(st.DataType(), to) || st.Len() != 3 || st.NullN() != 1 || !st.IsNull(0) {
		t.Fatalf("got %s, %d rows, %d nulls: %v", st.DataType(), st.Len(), st.NullN(), st)
	}
	a, b := st.Field(0).(*array.Int64), st.Field(1).(*array.String)
	if a.Value(1) != 20 || a.Value(2) != 30 || b.Value(1) != "y" || b.Value(2) != "z" {
		t.Errorf("values %v %v: want a 20, 30 and b y, z", a, b)
	}
}
