package lakecheck

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"slices"

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
func readParquet(ctx context.Context, b []byte, fields []Field, mem memory.Allocator, deleted []int64) (all, live fileAggs, err error) {
	rdr, err := file.NewParquetReader(bytes.NewReader(b))
	if err != nil {
		return fileAggs{}, fileAggs{}, fmt.Errorf("opening parquet: %w", err)
	}
	defer rdr.Close()
	root := rdr.MetaData().Schema.Root()
	if err := checkFieldIDs(root); err != nil {
		return fileAggs{}, fileAggs{}, err
	}
	byID := make(map[int]int, root.NumFields())
	for i := range root.NumFields() {
		byID[int(root.Field(i).FieldID())] = i
	}

	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{BatchSize: 64 << 10}, mem)
	if err != nil {
		return fileAggs{}, fileAggs{}, fmt.Errorf("reading parquet schema: %w", err)
	}
	tbl, err := fr.ReadTable(ctx)
	if err != nil {
		return fileAggs{}, fileAggs{}, fmt.Errorf("reading parquet rows: %w", err)
	}
	defer tbl.Release()

	all = aggregateRuns(tbl, fields, byID, [][2]int64{{0, tbl.NumRows()}})
	if len(deleted) == 0 {
		return all, all, nil
	}
	runs, err := liveRuns(tbl.NumRows(), deleted)
	if err != nil {
		return fileAggs{}, fileAggs{}, err
	}
	return all, aggregateRuns(tbl, fields, byID, runs), nil
}

// aggregateRuns aggregates the columns of fields over the rows [lo, hi) of
// each run.
func aggregateRuns(tbl arrow.Table, fields []Field, byID map[int]int, runs [][2]int64) fileAggs {
	out := fileAggs{cols: make(map[int]*Agg, len(fields))}
	for _, r := range runs {
		out.rows += r[1] - r[0]
	}
	for _, f := range fields {
		agg := &Agg{Type: f.Type}
		out.cols[f.ID] = agg
		i, ok := byID[f.ID]
		if !ok {
			// A column added after the file was written reads as nulls.
			agg.Nulls = out.rows
			continue
		}
		for _, r := range runs {
			col := array.NewChunkedSlice(tbl.Column(i).Data(), r[0], r[1])
			for _, chunk := range col.Chunks() {
				aggregate(agg, chunk)
			}
			col.Release()
		}
	}
	return out
}

// liveRuns are the runs of rows of a file of n rows that deleted (ascending
// positions, maybe repeated) leaves.
func liveRuns(n int64, deleted []int64) ([][2]int64, error) {
	var runs [][2]int64
	var next int64
	for _, p := range deleted {
		if p < 0 || p >= n {
			return nil, fmt.Errorf("%w: a position delete names row %d of a file of %d rows", ErrMismatch, p, n)
		}
		if p > next {
			runs = append(runs, [2]int64{next, p})
		}
		next = max(next, p+1)
	}
	if next < n {
		runs = append(runs, [2]int64{next, n})
	}
	return runs, nil
}

// readPosDeletes reads a position delete file and adds its rows' positions
// to deleted, by data file path, each path's kept ascending.
func readPosDeletes(ctx context.Context, open Opener, df DataFile, deleted map[string][]int64, mem memory.Allocator) error {
	b, err := open(ctx, df.Path)
	if err != nil {
		return fmt.Errorf("reading: %w", err)
	}
	if int64(len(b)) != df.SizeInBytes {
		return fmt.Errorf("%w: file_size_in_bytes %d, actual size %d", ErrMismatch, df.SizeInBytes, len(b))
	}
	rdr, err := file.NewParquetReader(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("opening parquet: %w", err)
	}
	defer rdr.Close()
	root := rdr.MetaData().Schema.Root()
	pathCol, posCol := -1, -1
	for i := range root.NumFields() {
		switch root.Field(i).FieldID() {
		case posDeletePathID:
			pathCol = i
		case posDeletePosID:
			posCol = i
		}
	}
	if pathCol < 0 || posCol < 0 {
		return fmt.Errorf("%w: no file_path (%d) and pos (%d) columns", ErrInvalidMetadata, posDeletePathID, posDeletePosID)
	}
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{BatchSize: 64 << 10}, mem)
	if err != nil {
		return fmt.Errorf("reading parquet schema: %w", err)
	}
	tbl, err := fr.ReadTable(ctx)
	if err != nil {
		return fmt.Errorf("reading parquet rows: %w", err)
	}
	defer tbl.Release()
	if tbl.NumRows() != df.RecordCount {
		return fmt.Errorf("%w: record_count %d, rows read %d", ErrMismatch, df.RecordCount, tbl.NumRows())
	}
	var paths []string
	for _, chunk := range tbl.Column(pathCol).Data().Chunks() {
		c, ok := chunk.(*array.String)
		if !ok {
			return fmt.Errorf("%w: file_path is %s, not string", ErrInvalidMetadata, chunk.DataType())
		}
		for i := range c.Len() {
			paths = append(paths, c.Value(i))
		}
	}
	touched := map[string]bool{}
	i := 0
	for _, chunk := range tbl.Column(posCol).Data().Chunks() {
		c, ok := chunk.(*array.Int64)
		if !ok {
			return fmt.Errorf("%w: pos is %s, not long", ErrInvalidMetadata, chunk.DataType())
		}
		for j := range c.Len() {
			deleted[paths[i]] = append(deleted[paths[i]], c.Value(j))
			touched[paths[i]] = true
			i++
		}
	}
	for p := range touched {
		slices.Sort(deleted[p])
	}
	return nil
}

// Field ids of a position delete file's columns, from the Iceberg spec.
const (
	posDeletePathID = 2147483546
	posDeletePosID  = 2147483545
)

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
