package decode

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/s3load/s3load/internal/flatparquet"
)

const (
	// maxPageSize bounds one page, compressed or not. A page is decoded
	// whole, so this is what one bad (or huge) page can cost a worker in
	// memory; 256 MiB is arrow-go's default. A file with larger pages (the
	// conformance corpus has a 1 GiB map page) fails with a clear error
	// instead of taking gigabytes and, on 2 cores, the worker's heartbeats
	// with them.
	maxPageSize = 256 << 20

	julianUnixEpoch = 2_440_588 // Julian day number of 1970-01-01
	// maxInt96Days bounds the days from 1970 that timestamp[us] can hold.
	maxInt96Days = math.MaxInt64 / 86_400_000_000
)

// int96Type is what INT96 timestamps become: Spark and Impala write years
// that nanoseconds since 1970 cannot hold. Spark's precision is
// microseconds; Impala's nanoseconds are truncated.
var int96Type = &arrow.TimestampType{Unit: arrow.Microsecond}

// pqFile is an open Parquet file and how its columns are read: INT96
// columns by hand (see int96Type), the rest through pqarrow.
type pqFile struct {
	name string
	size int64
	// ahead serves reads from whole row groups fetched ahead; nil for a
	// temporary file.
	ahead  *readAhead
	pages  pageLimits
	pf     *file.Reader
	fr     *pqarrow.FileReader
	schema *arrow.Schema // the file's schema as this package presents it
	// fieldLeaves are each field's leaf columns; a field with none is
	// read by hand (INT96) or not at all.
	fieldLeaves [][]int
	int96       []int96Field
}

// pqPlan is how one decode reads a file into the table: which fields, and
// what each table column takes.
type pqPlan struct {
	leaves []int        // leaf columns read through pqarrow
	arrow  []int        // fields read through pqarrow, in order
	int96  []int96Field // fields read by hand
	from   []int        // per table column, its file field; -1: all null
	cast   []bool       // per table column, whether its type differs
}

type int96Field struct {
	field, leaf int
	maxDef      int16
}

// openParquet opens src; its page readers' buffers come from pageMem.
func openParquet(src *pqSource, s *settings, pageMem memory.Allocator) (*pqFile, error) {
	lim := limitFor(src.size, s.maxDecompressed, s.maxRatio)
	md, footer, err := readFooter(src, lim)
	if err != nil {
		return nil, err
	}
	pages := pageLimitsFor(md, src.size, lim)
	pf, fr, err := openReaders(src, md, pages, s, pageMem)
	if err != nil && strings.Contains(err.Error(), "MAP") {
		// arrow-go refuses some maps other readers accept; read them as
		// lists of key-value structs instead (see relabelMaps).
		if fixed, n, ferr := relabelMaps(footer); ferr == nil && n > 0 {
			if md2, perr := parseFooter(fixed); perr == nil {
				md2.SetSourceFileSize(src.size)
				md = md2
				pf, fr, err = openReaders(src, md, pages, s, pageMem)
			}
		}
	}
	if err != nil {
		return nil, err
	}
	p := &pqFile{name: src.name, size: src.size, ahead: src.ahead, pages: pages, pf: pf, fr: fr, fieldLeaves: make([][]int, len(fr.Manifest.Fields))}
	fields := make([]arrow.Field, len(fr.Manifest.Fields))
	for i, sf := range fr.Manifest.Fields {
		// Field metadata (Parquet field ids) is the file's, not the table's.
		fields[i] = arrow.Field{Name: sf.Field.Name, Type: sf.Field.Type, Nullable: sf.Field.Nullable}
		if len(sf.Children) == 0 && sf.ColIndex >= 0 {
			col := md.Schema.Column(sf.ColIndex)
			if col.PhysicalType() == parquet.Types.Int96 && col.MaxRepetitionLevel() == 0 {
				fields[i].Type = int96Type
				p.int96 = append(p.int96, int96Field{field: i, leaf: sf.ColIndex, maxDef: col.MaxDefinitionLevel()})
				continue
			}
		}
		p.fieldLeaves[i] = appendLeaves(nil, &sf)
	}
	p.schema = arrow.NewSchema(fields, nil)
	return p, nil
}

func appendLeaves(dst []int, sf *pqarrow.SchemaField) []int {
	if len(sf.Children) == 0 {
		if sf.ColIndex >= 0 {
			dst = append(dst, sf.ColIndex)
		}
		return dst
	}
	for i := range sf.Children {
		dst = appendLeaves(dst, &sf.Children[i])
	}
	return dst
}

func openReaders(src *pqSource, md *metadata.FileMetaData, pages pageLimits, s *settings, pageMem memory.Allocator) (pf *file.Reader, fr *pqarrow.FileReader, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = dataErrf(src.name, 0, "", "reading Parquet schema: decoder panic: %v", r)
		}
	}()
	props := parquet.NewReaderProperties(pageMem)
	props.MaxUncompressedPageSize = pages.uncompressed
	props.MaxCompressedPageSize = pages.compressed
	// Read column chunks a buffer at a time instead of whole: a worker's
	// memory then follows the batch size, not the row-group size.
	props.BufferedStreamEnabled = true
	props.BufferSize = 1 << 20
	pf, err = file.NewParquetReader(src.ra, file.WithReadProps(props), file.WithMetadata(md))
	if err != nil {
		return nil, nil, dataErr(src.name, 0, "", fmt.Errorf("opening Parquet file: %w", err))
	}
	// Parallel reads would run arrow's decoding in goroutines where a
	// panic on corrupt data cannot be recovered.
	fr, err = pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{Parallel: false, BatchSize: int64(s.batchRows)}, s.mem)
	if err != nil {
		return nil, nil, dataErr(src.name, 0, "", fmt.Errorf("reading Parquet schema: %w", err))
	}
	return pf, fr, nil
}

// readFooter reads the footer with two ranged reads, checks it and parses
// it, returning its bytes too for a second attempt.
func readFooter(src *pqSource, lim decompressLimit) (*metadata.FileMetaData, []byte, error) {
	footer, err := readFooterBytes(src)
	if err != nil {
		return nil, nil, err
	}
	if err := checkFooter(footer); err != nil {
		return nil, nil, dataErr(src.name, 0, "", fmt.Errorf("corrupt Parquet footer: %w", err))
	}
	md, err := parseFooter(footer)
	if err != nil {
		// arrow-go panics on logical types newer than it; read those
		// columns as their physical type instead.
		if fixed, dropped, ferr := dropUnknownLogicalTypes(footer); ferr == nil && dropped > 0 {
			if md, err = parseFooter(fixed); err == nil {
				footer = fixed
			}
		}
	}
	if err != nil {
		return nil, nil, dataErr(src.name, 0, "", fmt.Errorf("reading Parquet footer: %w", err))
	}
	md.SetSourceFileSize(src.size)
	if err := checkFileMeta(md, src.size, lim); err != nil {
		return nil, nil, dataErr(src.name, 0, "", fmt.Errorf("corrupt Parquet footer: %w", err))
	}
	return md, footer, nil
}

// readFooterBytes checks the magic at both ends and returns the footer's
// bytes as stored.
func readFooterBytes(src *pqSource) ([]byte, error) {
	const tail = 8 // footer length and magic
	if src.size < int64(len(parquetMagic)+tail) {
		return nil, dataErrf(src.name, 0, "", "not a Parquet file: %d bytes", src.size)
	}
	head := src.head
	if len(head) < len(parquetMagic) {
		head = make([]byte, len(parquetMagic))
		if err := readFull(src, head, 0, len(parquetMagic)); err != nil {
			return nil, err
		}
	}
	if !bytes.Equal(head[:4], parquetMagic) {
		return nil, dataErrf(src.name, 0, "", "not a Parquet file: it does not start with PAR1")
	}
	// One read of the file's end usually holds the footer too: a footer
	// is mostly a few KB, and a second request costs more than the bytes.
	end := min(src.size-int64(len(parquetMagic)), footerGuessBytes)
	last := make([]byte, end)
	if err := readFull(src, last, src.size-end, int(end)); err != nil {
		return nil, err
	}
	buf := last[len(last)-tail:]
	switch magic := buf[4:]; {
	case string(magic) == "PARE":
		return nil, dataErrf(src.name, 0, "", "encrypted Parquet files are not supported")
	case !bytes.Equal(magic, parquetMagic):
		return nil, dataErrf(src.name, 0, "", "not a Parquet file: it does not end with PAR1 (truncated?)")
	}
	n := int64(binary.LittleEndian.Uint32(buf[:4]))
	if n > src.size-int64(len(parquetMagic)+tail) {
		return nil, dataErrf(src.name, 0, "", "corrupt Parquet footer: length %d exceeds the file", n)
	}
	if n > maxFooterBytes {
		return nil, dataErrf(src.name, 0, "", "Parquet footer of %d bytes is over the %d-byte maximum: "+
			"rewrite the file with fewer row groups or columns", n, maxFooterBytes)
	}
	if n <= end-tail {
		return last[end-tail-n : end-tail], nil
	}
	footer := make([]byte, n)
	if err := readFull(src, footer, src.size-tail-n, int(n)); err != nil {
		return nil, err
	}
	return footer, nil
}

// footerGuessBytes is how much of a Parquet file's end is read at first.
const footerGuessBytes = 64 << 10

// readFull reads n bytes at off into buf, telling a short file (a
// DataError) from a failed read (the Object's error).
func readFull(src *pqSource, buf []byte, off int64, n int) error {
	got, err := src.ra.ReadAt(buf[:n], off)
	if got == n {
		return nil
	}
	if err != nil && !errors.Is(err, io.EOF) {
		switch ra := src.ra.(type) {
		case *objectReaderAt:
			return ra.errs.prefer(err)
		case *readAhead:
			return ra.ra.errs.prefer(err)
		}
		return fmt.Errorf("reading temporary file for %s: %w", src.name, err)
	}
	return dataErrf(src.name, 0, "", "Parquet file truncated: read %d of %d bytes at offset %d", got, n, off)
}

func parseFooter(b []byte) (md *metadata.FileMetaData, err error) {
	defer func() {
		if r := recover(); r != nil {
			md, err = nil, fmt.Errorf("decoder panic: %v", r)
		}
	}()
	return metadata.NewFileMetaData(b, nil)
}

// conform plans reading the file into the table, or explains how the
// two differ. A table column may be of a wider type than the file's (it is
// converted), or, with cols.MissingAsNull, one the file lacks (it is null);
// with cols.IgnoreExtra the file's other columns are not read.
func (p *pqFile) conform(table *arrow.Schema, cols ColumnPolicy) (*pqPlan, error) {
	at := firstIndices(p.schema.Fields())
	plan := &pqPlan{from: make([]int, table.NumFields()), cast: make([]bool, table.NumFields())}
	var diffs []ColumnDiff
	used := make([]bool, p.schema.NumFields())
	for j, f := range table.Fields() {
		i, ok := at[f.Name]
		switch {
		case !ok && cols.MissingAsNull:
			plan.from[j] = -1
			continue
		case !ok:
			diffs = append(diffs, ColumnDiff{Column: f.Name, Expected: f.Type.String(), Found: absent})
			continue
		}
		plan.from[j], used[i] = i, true
		if ft := p.schema.Field(i).Type; !arrow.TypeEqual(ft, f.Type) {
			if !fitsInto(ft, f.Type) {
				diffs = append(diffs, ColumnDiff{Column: f.Name, Expected: f.Type.String(), Found: ft.String()})
			}
			plan.cast[j] = true
		}
	}
	if !cols.IgnoreExtra {
		inTable := firstIndices(table.Fields())
		for _, f := range p.schema.Fields() {
			if _, ok := inTable[f.Name]; !ok {
				diffs = append(diffs, ColumnDiff{Column: f.Name, Expected: absent, Found: f.Type.String()})
			}
		}
	}
	if len(diffs) > 0 {
		return nil, &SchemaError{File: p.name, Diffs: diffs}
	}
	for _, f := range p.int96 {
		if used[f.field] {
			plan.int96 = append(plan.int96, f)
		}
	}
	for i, leaves := range p.fieldLeaves {
		if used[i] && !slices.ContainsFunc(plan.int96, func(f int96Field) bool { return f.field == i }) {
			plan.arrow = append(plan.arrow, i)
			plan.leaves = append(plan.leaves, leaves...)
		}
	}
	return plan, nil
}

func decodeParquet(ctx context.Context, p *pqFile, s *settings, emit func(arrow.RecordBatch) error) (int64, error) {
	table := s.schema
	if table == nil {
		table = p.schema
	}
	plan, err := p.conform(table, s.columns)
	if err != nil {
		return 0, err
	}
	var groups []int
	for rg := range p.pf.NumRowGroups() {
		if s.rowGroups == nil || p.rowGroupIn(rg, *s.rowGroups) {
			groups = append(groups, rg)
		}
	}
	var spans []byteSpan // per group, and a zero one after the last
	if p.ahead != nil {
		defer p.ahead.stop()
		spans = p.aheadSpans(groups, plan)
	}
	// The buffers of batches read with flatparquet come back when the
	// consumer releases them, and serve the next batches.
	flatMem := newRecycler(s.mem)
	defer flatMem.close()
	var total int64
	for i, rg := range groups {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		if p.ahead != nil {
			p.ahead.hold(ctx, spans[i], spans[i+1])
		}
		n, err := p.readRowGroup(ctx, rg, table, plan, s, flatMem, emit)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// rowGroupIn says whether row group rg's middle byte is in r: its byte
// span runs from its first column chunk's first page to its last column
// chunk's end.
func (p *pqFile) rowGroupIn(rg int, r ByteRange) bool {
	span, _ := p.chunksSpan(rg, nil)
	mid := span.start + span.size()/2
	return mid >= r.Start && mid < r.End
}

// chunksSpan is the byte span of row group rg's column chunks in leaves
// (nil: all of them), and the bytes those chunks hold. A row group with no
// columns is placed at the file's start.
func (p *pqFile) chunksSpan(rg int, leaves []int) (span byteSpan, chunks int64) {
	md := p.pf.MetaData().RowGroup(rg)
	span.start = -1
	for c := range md.NumColumns() {
		if leaves != nil && !slices.Contains(leaves, c) {
			continue
		}
		cc, err := md.ColumnChunk(c)
		if err != nil {
			continue
		}
		off := cc.DataPageOffset()
		if cc.HasDictionaryPage() && cc.DictionaryPageOffset() > 0 && cc.DictionaryPageOffset() < off {
			off = cc.DictionaryPageOffset()
		}
		if span.start < 0 || off < span.start {
			span.start = off
		}
		span.end = max(span.end, off+cc.TotalCompressedSize())
		chunks += cc.TotalCompressedSize()
	}
	span.start = max(span.start, 0)
	return span, chunks
}

// aheadSpans are what the read-ahead fetches of each of groups, and a
// zero span after them: the span of the chunks the plan reads, or none
// where it is mostly chunks the plan skips (those are read chunk by chunk).
func (p *pqFile) aheadSpans(groups []int, plan *pqPlan) []byteSpan {
	leaves := slices.Clone(plan.leaves)
	for _, f := range plan.int96 {
		leaves = append(leaves, f.leaf)
	}
	spans := make([]byteSpan, len(groups)+1)
	if len(leaves) == 0 {
		return spans
	}
	for i, rg := range groups {
		span, chunks := p.chunksSpan(rg, leaves)
		span.end = min(span.end, p.size)
		if span.size() > 0 && span.size() <= 2*chunks {
			spans[i] = span
		}
	}
	return spans
}

// readRowGroup emits one row group's rows in batches: with flatparquet's
// column readers if they read every column the plan reads through pqarrow
// (see parquet_flat.go), else with pqarrow. pqarrow stays the reference:
// a row group the column readers fail on before any of its rows is
// emitted is read again with pqarrow, whose verdict stands.
func (p *pqFile) readRowGroup(ctx context.Context, rg int, table *arrow.Schema, plan *pqPlan, s *settings, flatMem memory.Allocator, emit func(arrow.RecordBatch) error) (int64, error) {
	if flat, err := p.flatReaders(rg, plan, flatMem); err == nil && flat != nil {
		total, flatFailed, err := p.readGroup(ctx, rg, table, plan, s, flat, emit)
		closeFlat(flat)
		if !flatFailed || total > 0 {
			return total, err
		}
	}
	total, _, err := p.readGroup(ctx, rg, table, plan, s, nil, emit)
	return total, err
}

// readGroup emits one row group's rows in batches, read with flat (one
// reader per field of plan.arrow) or, if nil, pqarrow's record reader;
// flatFailed says whether flat failed. A panic in arrow's decoding becomes
// a DataError naming the row group.
func (p *pqFile) readGroup(ctx context.Context, rg int, table *arrow.Schema, plan *pqPlan, s *settings, flat []*flatparquet.ColumnReader, emit func(arrow.RecordBatch) error) (total int64, flatFailed bool, err error) {
	rowErr := func(err error) error {
		var de *DataError
		if errors.As(err, &de) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return &DataError{File: p.name, RowGroup: rg, Err: p.pages.explain(err)}
	}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(emitPanic); ok {
				panic(r)
			}
			err = &DataError{File: p.name, RowGroup: rg, Err: fmt.Errorf("decoder panic: %v", r)}
		}
	}()
	want := p.pf.MetaData().RowGroup(rg).NumRows()
	if want == 0 {
		return 0, false, nil
	}
	var rr pqarrow.RecordReader
	if flat == nil && len(plan.leaves) > 0 {
		rr, err = p.fr.GetRecordReader(ctx, plan.leaves, []int{rg})
		if err != nil {
			return 0, false, rowErr(err)
		}
		defer rr.Release()
	}
	i96 := make([]*file.Int96ColumnChunkReader, len(plan.int96))
	for k, f := range plan.int96 {
		ccr, err := p.pf.RowGroup(rg).Column(f.leaf)
		if err != nil {
			return 0, false, rowErr(err)
		}
		defer ccr.Close()
		r, ok := ccr.(*file.Int96ColumnChunkReader)
		if !ok {
			return 0, false, rowErr(fmt.Errorf("column %d is not INT96", f.leaf))
		}
		i96[k] = r
	}
	cols := make([]arrow.Array, p.schema.NumFields())
	out := make([]arrow.Array, table.NumFields())
	mctx := compute.WithAllocator(ctx, s.mem)
	for total < want {
		clear(cols)
		var n int64
		var owned []arrow.Array
		switch {
		case flat != nil:
			n = min(int64(s.batchRows), want-total)
			if owned, err = p.readFlat(flat, plan, rg, n, total, want, cols); err != nil {
				return total, true, err
			}
		case rr != nil:
			if rr.Next() { // else n stays 0 and the loop ends
				rec := rr.RecordBatch()
				n = rec.NumRows()
				for k, fi := range plan.arrow {
					cols[fi] = rec.Column(k)
				}
			}
		default:
			n = min(int64(s.batchRows), want-total)
		}
		if n == 0 {
			break
		}
		for k, f := range plan.int96 {
			arr, err := readInt96(i96[k], n, f.maxDef, s)
			if err != nil {
				releaseAll(owned)
				return total, false, rowErr(fmt.Errorf("column %q: %w", p.schema.Field(f.field).Name, err))
			}
			owned = append(owned, arr)
			cols[f.field] = arr
		}
		for j, fi := range plan.from {
			tf := table.Field(j)
			switch {
			case fi < 0:
				out[j] = array.MakeArrayOfNull(s.mem, tf.Type, int(n))
				owned = append(owned, out[j])
			case plan.cast[j]:
				conv, err := ConformArray(mctx, cols[fi], tf.Type)
				if err != nil {
					// the error first: owned may hold cols[fi]
					err = &DataError{File: p.name, RowGroup: rg, Column: tf.Name,
						Err: fmt.Errorf("converting %s to the table's %s: %w", cols[fi].DataType(), tf.Type, err)}
					releaseAll(owned)
					return total, false, err
				}
				out[j] = conv
				owned = append(owned, conv)
			default:
				out[j] = cols[fi]
			}
			if !tf.Nullable && out[j].NullN() > 0 {
				releaseAll(owned)
				return total, false, &DataError{File: p.name, RowGroup: rg, Column: table.Field(j).Name, Err: errors.New("null value in a non-nullable column")}
			}
		}
		rec := array.NewRecordBatch(table, out, n)
		// arrow-go can build a batch that contradicts itself from a
		// corrupt file (a list's last offset past its values); whoever
		// reads it next would panic outside any recover. The check is
		// O(columns), not O(rows).
		if err := array.ValidateRecord(rec); err != nil {
			rec.Release()
			releaseAll(owned)
			return total, flat != nil, rowErr(fmt.Errorf("the decoded rows are inconsistent (corrupt file?): %w", err))
		}
		err := emit(rec)
		rec.Release()
		releaseAll(owned)
		if err != nil {
			return total, false, err
		}
		total += n
		if err := ctx.Err(); err != nil {
			return total, false, err
		}
	}
	if rr != nil {
		if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
			return total, false, rowErr(err)
		}
	}
	if total != want {
		return total, false, rowErr(fmt.Errorf("read %d of the row group's %d rows", total, want))
	}
	return total, false, nil
}

func releaseAll(arrs []arrow.Array) {
	for _, a := range arrs {
		a.Release()
	}
}

// readInt96 reads n rows of a flat INT96 column as timestamp[us].
func readInt96(r *file.Int96ColumnChunkReader, n int64, maxDef int16, s *settings) (arrow.Array, error) {
	vals := make([]parquet.Int96, n)
	defs := make([]int16, n)
	var levels, values int64
	for levels < n {
		t, v, err := r.ReadBatch(n-levels, vals[values:], defs[levels:], nil)
		if err != nil {
			return nil, err
		}
		if t == 0 {
			return nil, fmt.Errorf("INT96 column ended after %d of %d values", levels, n)
		}
		levels += t
		values += int64(v)
	}
	b := array.NewTimestampBuilder(s.mem, int96Type)
	defer b.Release()
	b.Reserve(int(n))
	vi := 0
	for k := range n {
		if maxDef > 0 && defs[k] < maxDef {
			b.AppendNull()
			continue
		}
		v := vals[vi]
		vi++
		// Writers store a signed Julian day and nanoseconds of that day.
		nanos := int64(binary.LittleEndian.Uint64(v[:8]))
		days := int64(int32(binary.LittleEndian.Uint32(v[8:]))) - julianUnixEpoch
		if nanos < 0 || nanos >= 86_400_000_000_000 {
			return nil, fmt.Errorf("invalid INT96 timestamp: nanoseconds of day %d", nanos)
		}
		if days >= maxInt96Days || days <= -maxInt96Days {
			return nil, fmt.Errorf("INT96 timestamp %d days from 1970 is outside timestamp[us]", days)
		}
		b.Append(arrow.Timestamp(days*86_400_000_000 + nanos/1000))
	}
	return b.NewArray(), nil
}

// ParquetCopyable reports whether obj can become a table's part byte for
// byte: an uncompressed Parquet file (not .parquet.gz) whose footer
// arrow-go reads as written, with no INT96 column, and whose columns are
// exactly the table's, in order, with the same types and nullability.
// Copying such a file skips re-encoding it, which is most of the cost of
// loading Parquet; the caller still decodes the copy to prove every page
// readable. Only the footer is read. false with a nil error means the file
// must be decoded and re-encoded as usual (which also reports what is
// wrong with it, if anything is). rows is the footer's row count, which
// the copy's decoded rows must match.
func ParquetCopyable(ctx context.Context, obj Object, opts Options) (rows int64, ok bool, err error) {
	if opts.Schema == nil {
		return 0, false, nil
	}
	errs := &ioErrors{name: obj.Name()}
	src := &pqSource{name: obj.Name(), ra: &objectReaderAt{ctx: ctx, obj: obj, errs: errs}, size: obj.Size(), cleanup: func() {}}
	footer, err := readFooterBytes(src)
	if err != nil {
		var de *DataError
		if errors.As(err, &de) {
			return 0, false, nil // not plain Parquet: the decoder will say why
		}
		return 0, false, err
	}
	if checkFooter(footer) != nil {
		return 0, false, nil
	}
	md, err := parseFooter(footer)
	if err != nil {
		return 0, false, nil // only a rewritten footer reads: decode it
	}
	md.SetSourceFileSize(src.size)
	var inGroups int64
	for i := range md.NumRowGroups() {
		inGroups += md.RowGroup(i).NumRows()
	}
	if inGroups != md.NumRows {
		return 0, false, nil // a footer that miscounts its rows: write a correct one
	}
	s, err := resolve(obj.Name(), opts)
	if err != nil {
		return 0, false, nil
	}
	lim := limitFor(src.size, s.maxDecompressed, s.maxRatio)
	if checkFileMeta(md, src.size, lim) != nil {
		return 0, false, nil
	}
	pf, fr, err := openReaders(src, md, pageLimitsFor(md, src.size, lim), &s, s.mem)
	if err != nil {
		return 0, false, nil
	}
	defer pf.Close()
	fields := fr.Manifest.Fields
	if len(fields) != opts.Schema.NumFields() {
		return 0, false, nil
	}
	for i, sf := range fields {
		want := opts.Schema.Field(i)
		if sf.Field.Name != want.Name || sf.Field.Nullable != want.Nullable || !arrow.TypeEqual(sf.Field.Type, want.Type) {
			return 0, false, nil
		}
		if len(sf.Children) == 0 && sf.ColIndex >= 0 && md.Schema.Column(sf.ColIndex).PhysicalType() == parquet.Types.Int96 {
			return 0, false, nil
		}
	}
	return md.NumRows, true, nil
}
