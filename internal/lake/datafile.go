package lake

import (
	"errors"
	"fmt"
	"strings"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/target"
	"github.com/s3load/s3load/messages"
)

// dataFiles describes the load's parts as Iceberg data files, from what
// the workers recorded: one per part, however many files it holds.
func dataFiles(tbl *table.Table, req coordinator.CommitRequest) ([]target.PartSize, []iceberg.DataFile, error) {
	type part struct {
		bytes int64
		rows  int64
		stats *messages.PartStats
	}
	parts := map[string]*part{}
	var order []string
	for _, f := range req.Loaded {
		p, ok := parts[f.Part]
		if !ok {
			p = &part{bytes: f.Bytes, stats: f.Stats}
			parts[f.Part] = p
			order = append(order, f.Part)
		}
		p.rows += f.Rows
	}
	loc := strings.TrimRight(tbl.Location(), "/")
	spec := tbl.Spec()
	sizes := make([]target.PartSize, 0, len(order))
	files := make([]iceberg.DataFile, 0, len(order))
	for _, path := range order {
		p := parts[path]
		rows := p.rows
		if p.stats != nil {
			if p.stats.Rows != rows || p.stats.Size != p.bytes {
				return nil, nil, fmt.Errorf("part %s: its stats say %d rows and %d bytes, its files' records %d and %d",
					path, p.stats.Rows, p.stats.Size, rows, p.bytes)
			}
		}
		b, err := iceberg.NewDataFileBuilder(spec, iceberg.EntryContentData, loc+"/"+path, iceberg.ParquetFile,
			nil, nil, nil, rows, p.bytes)
		if err != nil {
			return nil, nil, fmt.Errorf("describing part %s: %w", path, err)
		}
		if s := p.stats; s != nil && len(s.Columns) > 0 {
			sizes, values, nulls := map[int]int64{}, map[int]int64{}, map[int]int64{}
			lower, upper := map[int][]byte{}, map[int][]byte{}
			for _, c := range s.Columns {
				sizes[c.FieldID], values[c.FieldID], nulls[c.FieldID] = c.Size, c.Values, c.Nulls
				if c.Lower != nil && c.Upper != nil {
					lower[c.FieldID], upper[c.FieldID] = c.Lower, c.Upper
				}
			}
			b.ColumnSizes(sizes).ValueCounts(values).NullValueCounts(nulls).LowerBoundValues(lower).UpperBoundValues(upper)
		}
		sizes = append(sizes, target.PartSize{Path: path, Bytes: p.bytes})
		files = append(files, b.Build())
	}
	return sizes, files, nil
}

func isNoSuchTable(err error) bool { return errors.Is(err, catalog.ErrNoSuchTable) }
