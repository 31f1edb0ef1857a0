package flatparquet

import (
	"bytes"
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
	enc := c.enc
	dict := c.dictOn()
	switch {
	case c.kind == kindBool:
		buf = append(buf, c.values[:(c.nbits+7)/8]...)
	case dict:
		buf = c.dict.appendIndices(buf)
		enc = w.props.DictionaryIndexEncoding()
		if c.dict.min >= 0 {
			c.page.setBytes(c.dict.entry(c.dict.min), c.dict.entry(c.dict.max))
		}
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
	cfg := file.DataPageConfig{
		Num:              int32(c.rows),
		Encoding:         enc,
		UncompressedSize: int32(len(buf)),
		Stats:            st,
		FirstRowIndex:    int64(c.chunkRows),
	}
	if dict {
		// data is the writer's buffer, reused by the next page
		c.dict.pending = append(c.dict.pending, pendingPage{data: bytes.Clone(data), cfg: cfg})
		c.dict.endPage()
	} else if err := c.writePage(data, cfg); err != nil {
		return err
	}
	c.chunk.merge(&c.page)
	c.chunkRows += c.rows
	c.resetPage()
	return nil
}

// writePage hands a compressed data page to the page writer.
func (c *column) writePage(data []byte, cfg file.DataPageConfig) error {
	page := file.NewDataPageV1WithConfig(memory.NewBufferBytes(data), parquet.Encodings.RLE, parquet.Encodings.RLE, cfg)
	n, err := c.pager.WriteDataPage(page)
	page.Release()
	c.written += n
	return err
}

// writeDictionary writes the chunk's dictionary page, then the data pages
// that waited for it.
func (c *column) writeDictionary(w *Writer) error {
	d := c.dict
	page := file.NewDictionaryPage(memory.NewBufferBytes(d.plain), int32(len(d.entries)), w.props.DictionaryPageEncoding())
	n, err := c.pager.WriteDictionaryPage(page)
	c.written += n
	if err != nil {
		return err
	}
	d.written = true
	for i, p := range d.pending {
		if err := c.writePage(p.data, p.cfg); err != nil {
			return err
		}
		d.pending[i] = pendingPage{}
	}
	d.pending = d.pending[:0]
	return nil
}

// dictTooCostly says the chunk's dictionary must end, as arrow-go's
// checkDictionarySizeLimit says it after each batch: it has reached the
// dictionary page size limit or, if the column asks for the cost check,
// before the first page it is no smaller with its indices than the values
// PLAIN.
func (c *column) dictTooCostly(w *Writer) bool {
	d := c.dict
	if int64(d.size()) >= w.props.DictionaryPageSizeLimit() {
		return true
	}
	return len(d.pending) == 0 && d.costCheck && d.size()+d.encodedSize() >= d.raw
}

// fallBack ends the chunk's dictionary as arrow-go's FallbackToPlain does:
// the dictionary and the pages that used it are written if a page did (it
// is dropped if none did), and the current page's values so far are
// PLAIN, as will be the rest of the chunk.
func (c *column) fallBack(w *Writer) error {
	d := c.dict
	if len(d.pending) > 0 {
		if err := c.writeDictionary(w); err != nil {
			return err
		}
	}
	c.values = d.appendPlain(c.values[:0])
	if d.min >= 0 {
		c.page.setBytes(d.entry(d.min), d.entry(d.max))
	}
	d.plainOn = true
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
