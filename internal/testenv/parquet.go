package testenv

import (
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
)

// EncodedColumns lists the paths of the columns whose first row group
// uses enc, in column order: what a test of the writer's encodings checks.
func EncodedColumns(tb testing.TB, pf *file.Reader, enc parquet.Encoding) []string {
	tb.Helper()
	var paths []string
	rg := pf.MetaData().RowGroup(0)
	for c := range rg.NumColumns() {
		cc, err := rg.ColumnChunk(c)
		if err != nil {
			tb.Fatal(err)
		}
		if slices.Contains(cc.Encodings(), enc) {
			paths = append(paths, cc.PathInSchema().String())
		}
	}
	return paths
}
