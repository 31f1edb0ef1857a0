package pipeline

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

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

// conformArray is decode.ConformArray, the one conversion of arrays to a
// table's types.
func conformArray(ctx context.Context, arr arrow.Array, to arrow.DataType) (arrow.Array, error) {
	return decode.ConformArray(ctx, arr, to)
}
