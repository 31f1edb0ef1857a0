package decode

import (
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/s3load/s3load/internal/flatparquet"
)

// Row groups whose columns are all flat and of types and encodings
// flatparquet reads are read with its column readers: they decode pages
// straight into the batch's buffers, where pqarrow's record reader spends
// about a third of a Parquet load growing, zeroing and copying buffers.
// Anything else is pqarrow's.

// flatReaders opens a column reader for each field plan reads through
// pqarrow (in plan.arrow's order), or returns nil if a chunk of row group
// rg is not one flatparquet reads. arrow-go's page readers panic on some
// corrupt chunk offsets: such a row group is left to pqarrow too, whose
// reading recovers and names the row group.
func (p *pqFile) flatReaders(rg int, plan *pqPlan, mem memory.Allocator) (readers []*flatparquet.ColumnReader, err error) {
	if len(plan.arrow) == 0 {
		return nil, nil
	}
	defer func() {
		if r := recover(); r != nil {
			closeFlat(readers)
			readers, err = nil, nil
		}
	}()
	md := p.pf.MetaData()
	rgmd := md.RowGroup(rg)
	for _, fi := range plan.arrow {
		leaves := p.fieldLeaves[fi]
		if len(leaves) != 1 {
			return nil, nil
		}
		sf := &p.fr.Manifest.Fields[fi]
		if len(sf.Children) > 0 || sf.ColIndex != leaves[0] {
			return nil, nil
		}
		cc, err := rgmd.ColumnChunk(leaves[0])
		if err != nil {
			return nil, nil // pqarrow says what is wrong
		}
		if !flatparquet.ReadSupported(md.Schema.Column(leaves[0]), sf.Field.Type, cc.Encodings()) {
			return nil, nil
		}
	}
	rgr := p.pf.RowGroup(rg)
	readers = make([]*flatparquet.ColumnReader, len(plan.arrow))
	for k, fi := range plan.arrow {
		leaf := p.fieldLeaves[fi][0]
		pages, err := rgr.GetColumnPageReader(leaf)
		if err != nil {
			closeFlat(readers)
			return nil, &DataError{File: p.name, RowGroup: rg, Column: p.schema.Field(fi).Name, Err: p.pages.explain(err)}
		}
		readers[k] = flatparquet.NewColumnReader(pages, md.Schema.Column(leaf), p.fr.Manifest.Fields[fi].Field.Type, mem)
	}
	return readers, nil
}

func closeFlat(readers []*flatparquet.ColumnReader) {
	for _, r := range readers {
		if r != nil {
			r.Close()
		}
	}
}

// readFlat reads the next n rows of each reader into cols (by file field)
// and returns the arrays, which the caller releases. total rows of the
// row group's want are read already.
func (p *pqFile) readFlat(readers []*flatparquet.ColumnReader, plan *pqPlan, rg int, n, total, want int64, cols []arrow.Array) ([]arrow.Array, error) {
	arrs := make([]arrow.Array, 0, len(readers))
	for k, fi := range plan.arrow {
		arr, err := readers[k].Read(int(n))
		switch {
		case errors.Is(err, io.EOF):
			err = fmt.Errorf("column chunk ends after %d of the row group's %d rows", total, want)
		case err == nil && int64(arr.Len()) != n:
			err = fmt.Errorf("column chunk ends after %d of the row group's %d rows", total+int64(arr.Len()), want)
			arr.Release()
		}
		if err != nil {
			releaseAll(arrs)
			return nil, &DataError{File: p.name, RowGroup: rg, Column: p.schema.Field(fi).Name, Err: p.pages.explain(err)}
		}
		arrs = append(arrs, arr)
		cols[fi] = arr
	}
	if total+n == want {
		if err := p.flatEnd(readers, plan, rg, want); err != nil {
			releaseAll(arrs)
			return nil, err
		}
	}
	return arrs, nil
}

// flatEnd checks that every reader is at its chunk's end once the row
// group's rows are read, before the last batch is emitted: a page holding
// more values than its chunk's rows would otherwise go unnoticed.
func (p *pqFile) flatEnd(readers []*flatparquet.ColumnReader, plan *pqPlan, rg int, want int64) error {
	for k, fi := range plan.arrow {
		arr, err := readers[k].Read(1)
		if err == nil {
			arr.Release()
			err = fmt.Errorf("column chunk holds more values than the row group's %d rows", want)
		}
		if !errors.Is(err, io.EOF) {
			return &DataError{File: p.name, RowGroup: rg, Column: p.schema.Field(fi).Name, Err: p.pages.explain(err)}
		}
	}
	return nil
}
