//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/s3load/s3load/messages"
)

// verify is every case's verdict on its tables: Iceberg tables (the
// demo's format) are read with lakecheck and checked by checkLake against
// the snapshots the coordinator's report names; plain Parquet tables by
// checkOutput.
func (d *deployment) verify() {
	d.t.Helper()
	var problems, notes []string
	if d.opts.plain {
		problems = checkOutput(d.out)
	} else {
		problems, notes = checkLake(d.ctx, d.lake, reportedSnapshots(containerLogs(d.ctx, d.coordinator)))
	}
	for _, n := range notes {
		d.t.Log("note: " + n)
	}
	for _, p := range problems {
		d.t.Error(p)
	}
}

// checkOutput returns every way the plain Parquet tables under out differ
// from the data set; none means the load is exact: each table is committed
// with exactly the source rows (every id of the data set once: no row
// lost, none twice, so no duplicate (source key, row) pair), every source
// file is in the manifest once with its full row count, nothing failed,
// and the table's directory holds exactly the parts the manifest lists.
func checkOutput(out string) []string {
	var problems []string
	errorf := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	expected := sourceFiles() // table -> source keys
	for _, table := range tableNames {
		checkTable(filepath.Join(out, table), table, expected[table], errorf)
	}
	return problems
}

func checkTable(dir, table string, keys map[string]bool, errorf func(string, ...any)) {
	data, err := os.ReadFile(filepath.Join(dir, "_manifest.json"))
	if err != nil {
		errorf("%s: not committed: %v", table, err)
		return
	}
	m, err := messages.Unmarshal[messages.Manifest](data)
	if err != nil {
		errorf("%s: manifest: %v", table, err)
		return
	}
	if len(m.Failed) > 0 {
		errorf("%s: %d files failed, first: %s: %s", table, len(m.Failed), m.Failed[0].Source, m.Failed[0].Error)
	}
	wantRows := int64(len(keys) * rowsPerFile)
	if m.Rows != wantRows {
		errorf("%s: manifest rows %d, want %d", table, m.Rows, wantRows)
	}
	seen := map[string]bool{}
	parts := map[string]bool{}
	for _, f := range m.Files {
		switch {
		case !keys[f.Source.Key]:
			errorf("%s: manifest lists %s, which is not a file of the table", table, f.Source.Key)
		case seen[f.Source.Key]:
			errorf("%s: manifest lists %s twice", table, f.Source.Key)
		case f.Rows != rowsPerFile:
			errorf("%s: %s committed with %d rows, the file has %d (a short body loaded?)", table, f.Source.Key, f.Rows, rowsPerFile)
		}
		seen[f.Source.Key] = true
		parts[f.Path] = true
	}
	for k := range keys {
		if !seen[k] {
			errorf("%s: %s is missing from the manifest", table, k)
		}
	}
	listed := map[string]bool{}
	for _, p := range m.Parts {
		listed[p.Path] = true
	}
	if len(listed) != len(parts) || len(m.Parts) != len(parts) {
		errorf("%s: the manifest's parts %v are not the parts its files name %v", table, m.Parts, parts)
	}

	// The directory: exactly the manifest's parts.
	entries, err := os.ReadDir(dir)
	if err != nil {
		errorf("%s: %v", table, err)
		return
	}
	var extra []string
	for _, e := range entries {
		if e.Name() != "_manifest.json" && !parts[e.Name()] {
			extra = append(extra, e.Name())
		}
	}
	if len(extra) > 0 {
		errorf("%s: the table directory holds files the manifest does not list: %v", table, extra)
	}

	// The rows: every id once.
	ids := make([]int64, 0, wantRows)
	for p := range parts {
		got, err := readIDs(filepath.Join(dir, p), idColumn[table])
		if err != nil {
			errorf("%s: %v", table, err)
			return
		}
		ids = append(ids, got...)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	dups := 0
	for i := 1; i < len(ids); i++ {
		if ids[i] == ids[i-1] {
			dups++
		}
	}
	if dups > 0 {
		errorf("%s: %d duplicate %s values", table, dups, idColumn[table])
	}
	exact := int64(len(ids)) == wantRows
	for i, id := range ids {
		if id != int64(i) {
			exact = false
			break
		}
	}
	if !exact {
		errorf("%s: the parts hold %d rows whose %s are not exactly 0..%d", table, len(ids), idColumn[table], wantRows-1)
	}
}

// readIDs reads one int64 column of a Parquet part.
func readIDs(path, column string) ([]int64, error) {
	f, err := file.OpenParquetFile(path, false)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	r, err := pqarrow.NewFileReader(f, pqarrow.ArrowReadProperties{BatchSize: 4096}, memory.DefaultAllocator)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	tbl, err := r.ReadTable(context.Background())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer tbl.Release()
	idx := tbl.Schema().FieldIndices(column)
	if len(idx) != 1 {
		return nil, fmt.Errorf("%s: no column %s", path, column)
	}
	col := tbl.Column(idx[0])
	var ids []int64
	for _, chunk := range col.Data().Chunks() {
		a, ok := chunk.(*array.Int64)
		if !ok {
			return nil, fmt.Errorf("%s: %s is %s, not int64", path, column, chunk.DataType())
		}
		for i := 0; i < a.Len(); i++ {
			if a.IsNull(i) {
				return nil, fmt.Errorf("%s: null %s", path, column)
			}
			ids = append(ids, a.Value(i))
		}
	}
	return ids, nil
}
