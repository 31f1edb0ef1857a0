package decode

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// batcher collects rows in a RecordBuilder and emits a batch every limit
// rows. Release it when done.
type batcher struct {
	rb    *array.RecordBuilder
	rows  int
	limit int
	total int64
	emit  func(arrow.RecordBatch) error
}

func newBatcher(mem memory.Allocator, schema *arrow.Schema, limit int, emit func(arrow.RecordBatch) error) *batcher {
	rb := array.NewRecordBuilder(mem, schema)
	rb.Reserve(min(limit, 1024))
	return &batcher{rb: rb, limit: limit, emit: emit}
}

// rowDone counts one complete row, emitting a batch when it is full.
func (b *batcher) rowDone(ctx context.Context) error {
	b.rows++
	if b.rows >= b.limit {
		return b.flush(ctx)
	}
	return nil
}

// flush emits the rows collected so far, if any. emit's error is returned
// unchanged: it is the caller's own.
func (b *batcher) flush(ctx context.Context) error {
	if b.rows == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	rec := b.rb.NewRecordBatch()
	defer rec.Release()
	n := b.rows
	b.rows = 0
	if err := b.emit(rec); err != nil {
		return err
	}
	b.total += int64(n)
	return nil
}

func (b *batcher) release() { b.rb.Release() }
