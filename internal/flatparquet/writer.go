package flatparquet

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// magic starts and ends a Parquet file.
const magic = "PAR1"

// Writer writes record batches of one flat schema as a Parquet file. It is
// not safe for concurrent use.
type Writer struct {
	schema *arrow.Schema
	props  *parquet.WriterProperties
	out    *sink
	closer io.Closer // the destination, if it closes
	meta   *metadata.FileMetaDataBuilder
	cols   []*column

	rg     *metadata.RowGroupMetaDataBuilder // the open row group, if any
	rgRows int64
	rgs    int

	// a page as assembled and as compressed, reused for every page
	page       []byte
	compressed bytes.Buffer

	err    error // the first failure: the file is broken from there on
	closed bool
	footer *metadata.FileMetaData
}

// NewWriter writes a Parquet file of schema to w with props (nil for
// arrow-go's defaults, which enable dictionaries for every column and so
// are refused). It honours the compression codec and level, the maximum
// row group length, the data page size, the write batch size, per-column
// encodings (PLAIN; DELTA_BINARY_PACKED for INT32 and INT64 columns;
// BYTE_STREAM_SPLIT for FLOAT and DOUBLE ones), dictionaries for
// BYTE_ARRAY columns (falling back to PLAIN as arrow-go does: at the
// dictionary page size limit, and on its cost check where enabled),
// statistics on or off and their maximum size, the Parquet version and
// created_by. It refuses the properties it does not honour: dictionaries
// for other columns, data pages V2, page indexes, bloom filters,
// encryption. If storeSchema, the footer keeps the Arrow schema under
// "ARROW:schema" as pqarrow.WithStoreSchema does.
//
// Like pqarrow's, Close closes w if it is an io.Closer.
func NewWriter(schema *arrow.Schema, w io.Writer, props *parquet.WriterProperties, storeSchema bool) (*Writer, error) {
	if !Supported(schema) {
		return nil, fmt.Errorf("flatparquet: schema not supported (use pqarrow): %v", schema)
	}
	if props == nil {
		props = parquet.NewWriterProperties()
	}
	if err := checkProps(props); err != nil {
		return nil, fmt.Errorf("flatparquet: %w", err)
	}
	// The Parquet schema is pqarrow's own, so field ids, logical types,
	// repetitions and column paths are what it would write.
	pqschema, err := pqarrow.ToParquet(schema, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return nil, fmt.Errorf("flatparquet: %w", err)
	}
	if pqschema.NumColumns() != schema.NumFields() || schema.NumFields() > math.MaxInt16 {
		return nil, fmt.Errorf("flatparquet: %d fields make %d columns", schema.NumFields(), pqschema.NumColumns())
	}
	cols := make([]*column, schema.NumFields())
	for i, f := range schema.Fields() {
		k, _ := kindOf(f.Type)
		descr := pqschema.Column(i)
		if descr.PhysicalType() != k.physical() || !sameUnit(f.Type, descr) {
			return nil, fmt.Errorf("flatparquet: column %q: pqarrow converts %s to %s %s, which this package does not", f.Name, f.Type, descr.PhysicalType(), descr.LogicalType())
		}
		if err := checkColumn(descr, props); err != nil {
			return nil, fmt.Errorf("flatparquet: column %q: %w", f.Name, err)
		}
		cols[i] = newColumn(f, k, descr, props)
	}
	kv, err := footerMetadata(schema, props.Allocator(), storeSchema)
	if err != nil {
		return nil, fmt.Errorf("flatparquet: %w", err)
	}
	fw := &Writer{
		schema: schema,
		props:  props,
		out:    &sink{w: w},
		meta:   metadata.NewFileMetadataBuilder(pqschema, props, kv),
		cols:   cols,
	}
	if c, ok := w.(io.Closer); ok {
		fw.closer = c
	}
	if _, err := io.WriteString(fw.out, magic); err != nil {
		return nil, fmt.Errorf("flatparquet: writing the magic number: %w", err)
	}
	return fw, nil
}

// WriteBuffered adds rec's rows to the current row group, as
// pqarrow.FileWriter.WriteBuffered does: a row group ends when it reaches
// the maximum row group length, the rest of rec going to the next. A
// batch it cannot take (of another schema, or with nulls in a column that
// is not nullable) is an error that leaves the file as it was; an error
// while writing breaks the file, and is returned again from then on.
func (w *Writer) WriteBuffered(rec arrow.RecordBatch) error {
	switch {
	case w.closed:
		return errors.New("flatparquet: WriteBuffered after Close")
	case w.err != nil:
		return w.err
	case rec == nil:
		return errors.New("flatparquet: nil record batch")
	case !rec.Schema().Equal(w.schema):
		return fmt.Errorf("flatparquet: record schema does not match the writer's: record %s, writer %s", rec.Schema(), w.schema)
	}
	n := rec.NumRows()
	for i, c := range w.cols {
		col := rec.Column(i)
		if int64(col.Len()) != n {
			return fmt.Errorf("flatparquet: writing column %q: %d values in a batch of %d rows", c.name, col.Len(), n)
		}
		if !c.nullable && col.NullN() > 0 {
			return fmt.Errorf("flatparquet: writing column %q: %d nulls in a column that is not nullable", c.name, col.NullN())
		}
	}
	if err := w.writeRows(rec, n); err != nil {
		w.err = err
		return err
	}
	return nil
}

// writeRows writes rec's n rows, starting row groups as pqarrow does.
func (w *Writer) writeRows(rec arrow.RecordBatch, n int64) error {
	if w.rg == nil {
		if err := w.startRowGroup(); err != nil {
			return err
		}
	}
	maxRows := w.props.MaxRowGroupLength()
	if w.rgRows+n <= maxRows {
		return w.writeRange(rec, 0, n)
	}
	for off, size := int64(0), maxRows-w.rgRows; ; {
		if err := w.writeRange(rec, off, size); err != nil {
			return err
		}
		if off+size >= n {
			return nil
		}
		if err := w.closeRowGroup(); err != nil {
			return err
		}
		if err := w.startRowGroup(); err != nil {
			return err
		}
		off += size
		size = min(maxRows, n-off)
	}
}

// writeRange writes rows off to off+n of rec to the open row group.
func (w *Writer) writeRange(rec arrow.RecordBatch, off, n int64) error {
	if n == 0 {
		return nil
	}
	for i, c := range w.cols {
		if err := c.write(w, rec.Column(i), int(off), int(n)); err != nil {
			return fmt.Errorf("flatparquet: writing column %q: %w", c.name, err)
		}
	}
	w.rgRows += n
	return nil
}

// AppendKeyValueMetadata adds an entry to the footer's key-value
// metadata, as pqarrow.FileWriter.AppendKeyValueMetadata does; before Close.
func (w *Writer) AppendKeyValueMetadata(key, value string) error {
	if w.closed {
		return errors.New("flatparquet: AppendKeyValueMetadata after Close")
	}
	return w.meta.AppendKeyValueMetadata(key, value)
}

// Close writes the open row group and the footer, then closes the
// destination if it is an io.Closer (also after an error, as pqarrow
// does). Calls after the first do nothing.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	err := w.err
	if err == nil {
		err = w.finish()
	}
	if w.closer != nil {
		if cerr := w.closer.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("flatparquet: closing the destination: %w", cerr)
		}
	}
	// the buffers are not needed any more; the metadata is
	for _, c := range w.cols {
		*c = column{name: c.name}
	}
	w.page, w.compressed = nil, bytes.Buffer{}
	w.err = err
	return err
}

// finish writes what remains and the footer: the file metadata, its
// length and the magic number.
func (w *Writer) finish() error {
	if w.rg != nil {
		if err := w.closeRowGroup(); err != nil {
			return err
		}
	}
	md, err := w.meta.Snapshot()
	if err != nil {
		return fmt.Errorf("flatparquet: footer: %w", err)
	}
	n, err := md.WriteTo(w.out, nil)
	if err != nil {
		return fmt.Errorf("flatparquet: writing the footer: %w", err)
	}
	var tail [8]byte
	binary.LittleEndian.PutUint32(tail[:4], uint32(n))
	copy(tail[4:], magic)
	if _, err := w.out.Write(tail[:]); err != nil {
		return fmt.Errorf("flatparquet: writing the footer: %w", err)
	}
	w.footer = md
	return nil
}

// FileMetadata is the file's metadata: after Close, the footer written;
// before, the state so far (as pqarrow.FileWriter.FileMetadata).
func (w *Writer) FileMetadata() (*metadata.FileMetaData, error) {
	if w.footer != nil {
		return w.footer, nil
	}
	if w.closed {
		if w.err != nil {
			return nil, w.err
		}
		return nil, errors.New("flatparquet: closed without a footer")
	}
	return w.meta.Snapshot()
}
