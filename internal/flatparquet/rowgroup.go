package flatparquet

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/parquet/file"
)

// startRowGroup opens a row group whose column chunks arrow-go's buffered
// page writers hold until it closes, as pqarrow's buffered row groups do.
func (w *Writer) startRowGroup() error {
	if w.rgs >= math.MaxInt16 {
		return fmt.Errorf("flatparquet: more than %d row groups", math.MaxInt16)
	}
	w.rg = w.meta.AppendRowGroup()
	w.rgRows = 0
	for i, c := range w.cols {
		meta := w.rg.NextColumnChunk()
		path := c.descr.Path()
		pager, err := file.NewPageWriter(w.out, w.props.CompressionFor(path), w.props.CompressionLevelFor(path), meta,
			int16(w.rgs), int16(i), &c.alloc, true, nil, nil)
		if err != nil {
			return fmt.Errorf("flatparquet: writing column %q: %w", c.name, err)
		}
		c.startChunk(meta, pager)
	}
	w.rgs++
	return nil
}

// closeRowGroup writes the open row group's column chunks, one after the
// other, and completes its metadata.
func (w *Writer) closeRowGroup() error {
	var written int64
	for _, c := range w.cols {
		if err := c.closeChunk(w); err != nil {
			return fmt.Errorf("flatparquet: writing column %q: %w", c.name, err)
		}
		written += c.written
	}
	w.rg.SetNumRows(int(w.rgRows))
	err := w.rg.Finish(written, int16(w.rgs-1))
	w.rg = nil
	if err != nil {
		return fmt.Errorf("flatparquet: finishing row group %d: %w", w.rgs-1, err)
	}
	return nil
}
