package flatparquet

import (
	"errors"

	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
)

// startChunk begins the column's chunk of a new row group.
func (c *column) startChunk(meta *metadata.ColumnChunkMetaDataBuilder, pager file.PageWriter) {
	c.meta, c.pager = meta, pager
	c.chunkRows, c.written = 0, 0
	c.chunk.reset()
	if c.dict != nil {
		c.dict.reset()
	}
}

// closeChunk writes the last page, sets the chunk's statistics and has the
// page writer write the chunk and its metadata, as arrow-go's column
// writer Close does.
func (c *column) closeChunk(w *Writer) error {
	if c.pager == nil {
		return errors.New("no open column chunk")
	}
	if c.rows > 0 {
		if err := c.flushPage(w); err != nil {
			return err
		}
	}
	hasDict, fellBack := false, false
	if c.dict != nil {
		// an empty chunk too has its (empty) dictionary, as arrow-go writes it
		if !c.dict.plainOn {
			if err := c.writeDictionary(w); err != nil {
				return err
			}
		}
		// a dictionary dropped before its first page is not mentioned
		hasDict, fellBack = c.dict.written, c.dict.plainOn && c.dict.written
	}
	if c.statsOn {
		if st := c.chunk.encode(c.maxStats); c.chunkRows > 0 && st.IsSet() {
			c.meta.SetStats(st)
		}
	}
	err := c.pager.Close(hasDict, fellBack)
	c.meta, c.pager = nil, nil
	return err
}
