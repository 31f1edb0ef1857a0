package flatparquet

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
)

// flushPage assembles the page (a V1 data page: the definition levels of
// a nullable column, then the values), compresses it and hands it with its
// statistics to the page writer, as arrow-go's column writer does
// (FlushCurrentPage, buildDataPageV1). Its buffers stay for the next page.
func (c *column) flushPage(w *Writer) error {
	if c.rows > math.MaxInt32 {
		return fmt.Errorf("a page of %d rows: more than a page header can count", c.rows)
	}
	buf := w.page[:0]
	if c.nullable {
		buf = c.levels.appendTo(buf)
	}
	switch {
	case c.kind == kindBool:
		buf = append(buf, c.values[:(c.nbits+7)/8]...)
	case c.enc == parquet.Encodings.DeltaBinaryPacked:
		buf = c.delta.appendTo(buf)
	case c.enc == parquet.Encodings.ByteStreamSplit:
		buf = appendSplit(buf, c.values, c.kind.physical().ByteSize())
	default:
		buf = append(buf, c.values...)
	}
	w.page = buf
	if len(buf) > math.MaxInt32 {
		return fmt.Errorf("uncompressed page size %d exceeds INT32_MAX", len(buf))
	}
	data := buf
	if c.pager.HasCompressor() {
		w.compressed.Reset()
		data = c.pager.Compress(&w.compressed, buf)
	}
	var st metadata.EncodedStatistics
	if c.statsOn {
		st = c.page.encode(c.maxStats)
	}
	st.Signed = c.page.signed
	page := file.NewDataPageV1WithConfig(memory.NewBufferBytes(data), parquet.Encodings.RLE, parquet.Encodings.RLE, file.DataPageConfig{
		Num:              int32(c.rows),
		Encoding:         c.enc,
		UncompressedSize: int32(len(buf)),
		Stats:            st,
		FirstRowIndex:    int64(c.chunkRows),
	})
	n, err := c.pager.WriteDataPage(page)
	page.Release()
	c.written += n
	if err != nil {
		return err
	}
	c.chunk.merge(&c.page)
	c.chunkRows += c.rows
	c.resetPage()
	return nil
}

// resetPage empties the page, keeping its buffers.
func (c *column) resetPage() {
	c.rows, c.nbits = 0, 0
	c.levels.reset()
	c.values = c.values[:0]
	c.delta.reset()
	c.page.reset()
}
