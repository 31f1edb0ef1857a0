package lakecheck

import (
	"bytes"
	"context"
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// fileAggs aggregates one data file's top-level columns by field id.
type fileAggs struct {
	rows int64
	cols map[int]*Agg
}

// readParquet reads a whole Parquet data file and aggregates the top-level
// columns of fields, matched by Parquet field id.
func readParquet(ctx context.Context, b []byte, fields []Field, mem memory.Allocator) (fileAggs, error) {
	rdr, err := file.NewParquetReader(bytes.NewReader(b))
	if err != nil {
		return fileAggs{}, fmt.Errorf("opening parquet: %w", err)
	}
	defer rdr.Close()
	root := rdr.MetaData().Schema.Root()
	if err := checkFieldIDs(root); err != nil {
		return fileAggs{}, err
	}
	byID := make(map[int]int, root.NumFields())
	for i := range root.NumFields() {
		byID[int(root.Field(i).FieldID())] = i
	}

	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{BatchSize: 64 << 10}, mem)
	if err != nil {
		return fileAggs{}, fmt.Errorf("reading parquet schema: %w", err)
	}
	tbl, err := fr.ReadTable(ctx)
	if err != nil {
		return fileAggs{}, fmt.Errorf("reading parquet rows: %w", err)
	}
	defer tbl.Release()

	out := fileAggs{rows: tbl.NumRows(), cols: make(map[int]*Agg, len(fields))}
	for _, f := range fields {
		agg := &Agg{Type: f.Type}
		out.cols[f.ID] = agg
		i, ok := byID[f.ID]
		if !ok {
			// A column added after the file was written reads as nulls.
			agg.Nulls = out.rows
			continue
		}
		for _, chunk := range tbl.Column(i).Data().Chunks() {
			aggregate(agg, chunk)
		}
	}
	return out, nil
}

// checkFieldIDs fails unless every top-level field and every leaf has a
// field id: the checker resolves columns by id, never by name.
func checkFieldIDs(root *schema.GroupNode) error {
	var missing string
	var walk func(n schema.Node, top bool)
	walk = func(n schema.Node, top bool) {
		g, isGroup := n.(*schema.GroupNode)
		if (top || !isGroup) && n.FieldID() < 0 && missing == "" {
			missing = n.Path()
		}
		if isGroup {
			for i := range g.NumFields() {
				walk(g.Field(i), false)
			}
		}
	}
	for i := range root.NumFields() {
		walk(root.Field(i), true)
	}
	if missing != "" {
		return fmt.Errorf("%w: column %q has none", ErrNoFieldIDs, missing)
	}
	return nil
}

// aggregate adds one arrow array's values to agg.
func aggregate(agg *Agg, arr arrow.Array) {
	agg.Nulls += int64(arr.NullN())
	n := arr.Len()
	valid := func(i int) bool { return arr.IsValid(i) }
	switch a := arr.(type) {
	case *array.Int8:
		each(n, valid, func(i int) { agg.see(int64(a.Value(i))) })
	case *array.Int16:
		each(n, valid, func(i int) { agg.see(int64(a.Value(i))) })
	case *array.Int32:
		each(n, valid, func(i int) { agg.see(int64(a.Value(i))) })
	case *array.Int64:
		each(n, valid, func(i int) { agg.see(a.Value(i)) })
	case *array.Uint8:
		each(n, valid, func(i int) { agg.see(int64(a.Value(i))) })
	case *array.Uint16:
		each(n, valid, func(i int) { agg.see(int64(a.Value(i))) })
	case *array.Uint32:
		each(n, valid, func(i int) { agg.see(int64(a.Value(i))) })
	case *array.Date32:
		each(n, valid, func(i int) { agg.see(int64(a.Value(i))) })
	case *array.Time32:
		each(n, valid, func(i int) { agg.see(int64(a.Value(i))) })
	case *array.Time64:
		each(n, valid, func(i int) { agg.see(int64(a.Value(i))) })
	case *array.Timestamp:
		each(n, valid, func(i int) { agg.see(int64(a.Value(i))) })
	case *array.Float32:
		each(n, valid, func(i int) { seeFloat(agg, float64(a.Value(i))) })
	case *array.Float64:
		each(n, valid, func(i int) { seeFloat(agg, a.Value(i)) })
	case *array.Decimal128:
		scale := a.DataType().(*arrow.Decimal128Type).Scale
		each(n, valid, func(i int) { agg.see(a.Value(i).ToFloat64(scale)) })
	case *array.Boolean:
		each(n, valid, func(i int) { agg.see(a.Value(i)) })
	case interface{ Value(int) string }: // string, large string, string view
		each(n, valid, func(i int) { agg.see(a.Value(i)) })
	default:
		// Other types (binary, nested, ...) are only counted.
		agg.Count += int64(n - arr.NullN())
	}
}

func seeFloat(agg *Agg, v float64) {
	if math.IsNaN(v) {
		agg.Count++
		agg.NaNs++
		return
	}
	agg.see(v)
}

func each(n int, valid func(int) bool, f func(int)) {
	for i := range n {
		if valid(i) {
			f(i)
		}
	}
}
