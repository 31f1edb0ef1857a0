package decode

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
)

// rangeObject is a memObject that records each ranged read and can fail
// the reads of one range.
type rangeObject struct {
	memObject
	mu    sync.Mutex
	reads [][2]int64 // offset, length
	fail  func(off, n int64) error
}

func (o *rangeObject) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	o.mu.Lock()
	o.reads = append(o.reads, [2]int64{off, int64(len(p))})
	fail := o.fail
	o.mu.Unlock()
	if fail != nil {
		if err := fail(off, int64(len(p))); err != nil {
			return 0, err
		}
	}
	return o.memObject.ReadAt(ctx, p, off)
}

// rowGroupsFile is rows rows of three columns in row groups of group rows.
func rowGroupsFile(t *testing.T, rows, group int) []byte {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "x", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, nil)
	bld := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer bld.Release()
	for i := range rows {
		bld.Field(0).(*array.Int64Builder).Append(int64(i))
		bld.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("name %d", i*7919%1000))
		bld.Field(2).(*array.Float64Builder).Append(float64(i) / 8)
	}
	rec := bld.NewRecordBatch()
	defer rec.Release()
	return writeParquet(t, rec, parquet.WithMaxRowGroupLength(int64(group)), parquet.WithDictionaryDefault(false))
}

// A stored Parquet file is read a row group per request (after the
// footer), not a column chunk buffer at a time, and decodes the same.
func TestParquetReadAheadRowGroups(t *testing.T) {
	data := rowGroupsFile(t, 50_000, 10_000) // 5 row groups
	local := decodeAll(t, &memObject{name: "want.parquet", data: data}, Options{})
	if local.err != nil {
		t.Fatal(local.err)
	}
	obj := &rangeObject{memObject: memObject{name: "s3://b/k.parquet", data: data, noOpen: true}}
	res := decodeAll(t, obj, Options{Format: FormatParquet})
	if res.err != nil {
		t.Fatal(res.err)
	}
	if !slices.Equal(res.rows, local.rows) || len(res.rows) != 50_000 {
		t.Fatalf("%d rows read ahead, %d without; they differ", len(res.rows), len(local.rows))
	}
	// The head and footer, then one read per row group.
	if n := len(obj.reads); n > 2+5 {
		t.Errorf("%d ranged reads for 5 row groups: %v", n, obj.reads)
	}
}

// A failed read-ahead is not the file's failure: the reads it would have
// served go to the object, and a store that keeps failing is reported as
// the object's error, never as a temporary file's.
func TestParquetReadAheadFailure(t *testing.T) {
	data := rowGroupsFile(t, 30_000, 10_000)
	footer := int64(len(data)) - 64<<10
	t.Run("once", func(t *testing.T) {
		var failed atomic.Int64
		obj := &rangeObject{memObject: memObject{name: "s3://b/k.parquet", data: data}}
		obj.fail = func(off, n int64) error {
			if n > 1<<16 && failed.CompareAndSwap(0, 1) { // the first whole row group
				return errors.New("connection reset")
			}
			return nil
		}
		res := decodeAll(t, obj, Options{Format: FormatParquet})
		if res.err != nil || len(res.rows) != 30_000 {
			t.Fatalf("%d rows, %v", len(res.rows), res.err)
		}
		if failed.Load() != 1 {
			t.Fatal("no row group read failed: the test tested nothing")
		}
	})
	t.Run("always", func(t *testing.T) {
		obj := &rangeObject{memObject: memObject{name: "s3://b/k.parquet", data: data}}
		obj.fail = func(off, n int64) error {
			if off < footer && off > 4 {
				return errors.New("connection reset")
			}
			return nil
		}
		res := decodeAll(t, obj, Options{Format: FormatParquet})
		if res.err == nil {
			t.Fatalf("no error: %d rows", len(res.rows))
		}
		if got := res.err.Error(); !strings.Contains(got, "connection reset") || strings.Contains(got, "temporary file") {
			t.Errorf("error %q", got)
		}
	})
}

// A decode stopped mid-file leaves no read-ahead running.
func TestParquetReadAheadStops(t *testing.T) {
	data := rowGroupsFile(t, 50_000, 10_000)
	obj := &rangeObject{memObject: memObject{name: "s3://b/k.parquet", data: data}}
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := errors.New("enough")
	_, err := Decode(ctx, obj, Options{Format: FormatParquet, BatchRows: 1000}, func(rec arrow.RecordBatch) error {
		return stop
	})
	if !errors.Is(err, stop) {
		t.Fatalf("err %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after the decode, %d before", runtime.NumGoroutine(), before)
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}
