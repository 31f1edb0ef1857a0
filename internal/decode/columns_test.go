package decode

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// A batch ends early when a string column holds strLimit bytes, and no
// buffer outlives the batches.
func TestColumnsStringLimit(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	cs := newColumns(mem, schemaOf(t, "s", "utf8", "n", "int64"), 1000, []string{""})
	defer cs.release()
	cs.strLimit = 100
	var sizes []int64
	emit := func(rec arrow.RecordBatch) error {
		sizes = append(sizes, rec.NumRows())
		return nil
	}
	ctx := context.Background()
	for i := range 10 {
		cs.room()
		if err := cs.put(&cs.cols[0], cs.n, bytes.Repeat([]byte{'x'}, 30), false); err != nil {
			t.Fatal(err)
		}
		if err := cs.put(&cs.cols[1], cs.n, []byte(fmt.Sprint(i)), false); err != nil {
			t.Fatal(err)
		}
		if err := cs.rowDone(ctx, emit); err != nil {
			t.Fatal(err)
		}
	}
	if err := cs.flush(ctx, emit); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(sizes) != "[4 4 2]" {
		t.Errorf("batch sizes %v, want [4 4 2]", sizes)
	}
}

// The recycler hands released buffers out again and gives everything
// back to the real allocator, even a buffer freed after it closed.
func TestRecycler(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r := newRecycler(mem)
	a := r.Allocate(1000)
	r.Free(a)
	if b := r.Allocate(900); &b[0] != &a[0] {
		t.Error("a released buffer was not reused")
	} else {
		b = r.Reallocate(5000, b) // outgrown: back to mem, not kept
		c := r.Allocate(100)      // too small a request for b's buffer
		r.Free(b)
		r.close()
		r.Free(c) // after close: straight to mem
	}
	if len(r.free) != 0 || len(r.orig) != 0 {
		t.Errorf("kept %d buffers, tracks %d", len(r.free), len(r.orig))
	}
}
