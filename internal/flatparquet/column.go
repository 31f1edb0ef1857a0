package flatparquet

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// column writes one column: it encodes the current page's levels and
// values, and hands finished pages to the column chunk's page writer.
type column struct {
	name     string // the Arrow field's
	descr    *schema.Column
	kind     kind
	enc      parquet.Encoding
	nullable bool
	statsOn  bool
	maxStats int64
	alloc    chunkAlloc

	// the current page
	rows   int // levels (rows, nulls included)
	levels defLevels
	values []byte // PLAIN values (booleans: bits)
	nbits  int    // booleans in values
	delta  deltaEncoder
	dict   *dictEncoder // byte arrays with a dictionary; nil without
	page   stats

	// the current column chunk
	meta      *metadata.ColumnChunkMetaDataBuilder
	pager     file.PageWriter
	chunkRows int   // rows in the chunk's written pages
	written   int64 // bytes the page writer took
	chunk     stats

	// valid values of a batch with nulls (or widened to INT32)
	scratch32  []int32
	scratch64  []int64
	scratchF32 []float32
	scratchF64 []float64
}

func newColumn(field arrow.Field, k kind, descr *schema.Column, props *parquet.WriterProperties) *column {
	path := descr.Path()
	var dict *dictEncoder
	if k.physical() == parquet.Types.ByteArray && props.DictionaryEnabledFor(path) {
		dict = newDictEncoder(props.DictionaryCostFallbackEnabledFor(path))
	}
	return &column{
		dict:     dict,
		name:     field.Name,
		descr:    descr,
		kind:     k,
		enc:      props.EncodingFor(path),
		nullable: descr.MaxDefinitionLevel() > 0,
		statsOn:  props.StatisticsEnabledFor(path) && descr.SortOrder() != schema.SortUNKNOWN,
		maxStats: props.MaxStatsSizeFor(path),
		page:     newStats(descr),
		chunk:    newStats(descr),
	}
}

// size is the page's encoded values so far, as arrow-go measures a page
// against the data page size.
func (c *column) size() int {
	switch {
	case c.kind == kindBool:
		return (c.nbits + 7) / 8
	case c.enc == parquet.Encodings.DeltaBinaryPacked:
		return c.delta.size()
	case c.dictOn():
		return c.dict.raw
	}
	return len(c.values)
}

// dictOn says the column's values go to its dictionary: it has one and
// has not fallen back to PLAIN.
func (c *column) dictOn() bool { return c.dict != nil && !c.dict.plainOn }

// write adds rows lo to lo+n of arr to the column in batches of the write
// batch size, starting a new page whenever the current one reaches the
// data page size: the page boundaries arrow-go gives.
func (c *column) write(w *Writer, arr arrow.Array, lo, n int) (err error) {
	defer func() {
		// The batch's buffers are trusted to be what its type says; a
		// malformed one is an error, not a crash of the process.
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed %s array: %v", arr.DataType(), r)
		}
	}()
	batch := int(w.props.WriteBatchSize())
	for done := 0; done < n; {
		k := min(batch, n-done)
		if err := c.writeBatch(arr, lo+done, k); err != nil {
			return err
		}
		done += k
		if int64(c.size()) >= w.props.DataPageSize() {
			if err := c.flushPage(w); err != nil {
				return err
			}
		}
		if c.dictOn() && c.dictTooCostly(w) {
			if err := c.fallBack(w); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeBatch encodes rows lo to lo+n of arr into the page.
func (c *column) writeBatch(arr arrow.Array, lo, n int) error {
	data := arr.Data()
	off := data.Offset() + lo
	var valid []byte
	nulls := 0
	if arr.NullN() > 0 {
		valid = arr.NullBitmapBytes()
		if len(valid)*8 < off+n {
			return fmt.Errorf("validity bitmap of %d bytes holds no rows %d to %d", len(valid), off, off+n)
		}
		if nulls = n - bitutil.CountSetBits(valid, off, n); nulls == 0 {
			valid = nil
		}
	}
	if c.nullable {
		c.levels.add(valid, off, n, nulls)
	}
	c.rows += n
	c.page.nulls += int64(nulls)
	switch c.kind {
	case kindInt8:
		return putWidened[int8](c, data, off, n, valid)
	case kindUint8:
		return putWidened[uint8](c, data, off, n, valid)
	case kindInt16:
		return putWidened[int16](c, data, off, n, valid)
	case kindUint16:
		return putWidened[uint16](c, data, off, n, valid)
	case kindInt32:
		v, err := validValues(data, off, n, valid, &c.scratch32)
		if err != nil {
			return err
		}
		c.putInt32(v)
	case kindInt64:
		v, err := validValues(data, off, n, valid, &c.scratch64)
		if err != nil {
			return err
		}
		c.putInt64(v)
	case kindFloat32:
		v, err := validValues(data, off, n, valid, &c.scratchF32)
		if err != nil {
			return err
		}
		putFloat(c, v)
	case kindFloat64:
		v, err := validValues(data, off, n, valid, &c.scratchF64)
		if err != nil {
			return err
		}
		putFloat(c, v)
	case kindBool:
		return c.putBools(data, off, n, valid)
	case kindBinary:
		return putByteArrays[int32](c, data, off, n, valid)
	case kindLargeBinary:
		return putByteArrays[int64](c, data, off, n, valid)
	}
	return nil
}

func putWidened[S int8 | uint8 | int16 | uint16](c *column, data arrow.ArrayData, off, n int, valid []byte) error {
	v, err := fixedValues[S](data, off, n)
	if err != nil {
		return err
	}
	c.scratch32 = widen(v, valid, off, c.scratch32)
	c.putInt32(c.scratch32)
	return nil
}

func (c *column) putInt32(v []int32) {
	c.page.values += int64(len(v))
	if c.statsOn {
		c.page.addInt32(v)
	}
	if c.enc == parquet.Encodings.DeltaBinaryPacked {
		deltaPut(&c.delta, v)
		return
	}
	c.values = appendBytes(c.values, asBytes(v))
}

func (c *column) putInt64(v []int64) {
	c.page.values += int64(len(v))
	if c.statsOn {
		c.page.addInt64(v)
	}
	if c.enc == parquet.Encodings.DeltaBinaryPacked {
		deltaPut(&c.delta, v)
		return
	}
	c.values = appendBytes(c.values, asBytes(v))
}

// putFloat gathers PLAIN values for both PLAIN and BYTE_STREAM_SPLIT
// pages: the split needs the page's value count.
func putFloat[T float32 | float64](c *column, v []T) {
	c.page.values += int64(len(v))
	if c.statsOn {
		addFloat(&c.page, v)
	}
	c.values = appendBytes(c.values, asBytes(v))
}

func (c *column) putBools(data arrow.ArrayData, off, n int, valid []byte) error {
	if n == 0 {
		return nil
	}
	bits, err := buffer(data, 1)
	if err != nil {
		return err
	}
	if len(bits)*8 < off+n {
		return fmt.Errorf("value bitmap of %d bytes holds no values %d to %d", len(bits), off, off+n)
	}
	if valid == nil {
		c.values = appendBits(c.values, c.nbits, bits, off, n)
		c.nbits += n
		c.page.values += int64(n)
		if c.statsOn {
			trues := bitutil.CountSetBits(bits, off, n)
			c.page.addBool(trues < n, trues > 0)
		}
		return nil
	}
	start := c.nbits
	var k int
	c.values, k = appendValidBits(c.values, c.nbits, bits, off, n, valid)
	c.nbits += k
	c.page.values += int64(k)
	if c.statsOn && k > 0 {
		trues := bitutil.CountSetBits(c.values, start, k)
		c.page.addBool(trues < k, trues > 0)
	}
	return nil
}

func putByteArrays[O int32 | int64](c *column, data arrow.ArrayData, off, n int, valid []byte) error {
	if n == 0 {
		return nil
	}
	offs, values, err := offsets[O](data, off, n)
	if err != nil {
		return err
	}
	count := n
	if valid != nil {
		count = bitutil.CountSetBits(valid, off, n)
	}
	c.page.values += int64(count)
	if c.dictOn() {
		// the page's min and max are its entries', taken at flushPage
		putDict(c.dict, values, offs, valid, off)
		return nil
	}
	c.values = appendByteArrays(c.values, values, offs, valid, off)
	if c.statsOn {
		if mn, mx, ok := byteArraysMinMax(values, offs, valid, off); ok {
			c.page.setBytes(mn, mx)
		}
	}
	return nil
}
