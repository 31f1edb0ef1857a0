package flatparquet

import (
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// readKind is how a column's values land in Arrow buffers.
type readKind uint8

const (
	readFixed       readKind = iota // values of a fixed width
	readBool                        // a bitmap
	readBinary                      // 32-bit offsets and data: string, binary
	readLargeBinary                 // 64-bit offsets: large_string, large_binary
)

// maxBatchBytes bounds the byte array data of one Read: a few bytes of a
// corrupt page (a long dictionary value repeated by one RLE run, a
// DELTA_BYTE_ARRAY prefix repeated) could otherwise ask for any amount.
const maxBatchBytes = math.MaxInt32

// maxDeltaPageBytes bounds what one DELTA_BYTE_ARRAY page decodes to.
const maxDeltaPageBytes = 256 << 20

// readLayout is how column col is read into Arrow type t: the kind, the
// width of a Parquet value (fixed kinds) and of an Arrow value; ok is
// false if ColumnReader does not read it. INT32 values narrow to 8 and 16
// bits as pqarrow converts them (truncating); the other types are the
// Parquet values as they are.
func readLayout(col *schema.Column, t arrow.DataType) (k readKind, pw, ow int, ok bool) {
	switch col.PhysicalType() {
	case parquet.Types.Boolean:
		return readBool, 0, 0, t.ID() == arrow.BOOL
	case parquet.Types.Int32:
		switch t.ID() {
		case arrow.INT8, arrow.UINT8:
			return readFixed, 4, 1, true
		case arrow.INT16, arrow.UINT16:
			return readFixed, 4, 2, true
		case arrow.INT32, arrow.UINT32, arrow.DATE32, arrow.TIME32:
			return readFixed, 4, 4, true
		}
	case parquet.Types.Int64:
		switch t.ID() {
		case arrow.INT64, arrow.UINT64, arrow.TIME64:
			return readFixed, 8, 8, true
		case arrow.TIMESTAMP:
			// pqarrow does not read seconds (no Parquet type holds them)
			return readFixed, 8, 8, t.(*arrow.TimestampType).Unit != arrow.Second
		}
	case parquet.Types.Float:
		return readFixed, 4, 4, t.ID() == arrow.FLOAT32
	case parquet.Types.Double:
		return readFixed, 8, 8, t.ID() == arrow.FLOAT64
	case parquet.Types.ByteArray:
		switch t.ID() {
		case arrow.STRING, arrow.BINARY:
			return readBinary, 0, 0, true
		case arrow.LARGE_STRING, arrow.LARGE_BINARY:
			return readLargeBinary, 0, 0, true
		}
	}
	return 0, 0, 0, false
}

// ReadSupported reports whether ColumnReader reads column col (max
// repetition level 0, max definition level <= 1) into Arrow type t (the
// type pqarrow's schema manifest gives the column) when its chunk uses the
// given encodings (ColumnChunkMetaData.Encodings()). Decimals, fixed-length
// byte arrays, INT96, nested columns, extension types and BIT_PACKED
// levels are not: read those with pqarrow.
func ReadSupported(col *schema.Column, t arrow.DataType, encodings []parquet.Encoding) bool {
	if col == nil || t == nil || col.MaxRepetitionLevel() != 0 || col.MaxDefinitionLevel() > 1 {
		return false
	}
	k, pw, _, ok := readLayout(col, t)
	if !ok {
		return false
	}
	for _, e := range encodings {
		if !encodingSupported(e, k, pw, col.PhysicalType()) {
			return false
		}
	}
	return true
}

// encodingSupported says whether a chunk of kind k may use encoding e
// (RLE: the definition levels, or booleans).
func encodingSupported(e parquet.Encoding, k readKind, pw int, phys parquet.Type) bool {
	switch e {
	case parquet.Encodings.Plain, parquet.Encodings.RLE:
		return true
	case parquet.Encodings.PlainDict, parquet.Encodings.RLEDict:
		return k != readBool
	case parquet.Encodings.DeltaBinaryPacked:
		return phys == parquet.Types.Int32 || phys == parquet.Types.Int64
	case parquet.Encodings.DeltaLengthByteArray, parquet.Encodings.DeltaByteArray:
		return k == readBinary || k == readLargeBinary
	case parquet.Encodings.ByteStreamSplit:
		return k == readFixed && pw > 0
	}
	return false
}

// ColumnReader reads the rows of one flat column chunk into Arrow arrays,
// decoding pages straight into the arrays' buffers. Corrupt data is an
// error, never a panic; its messages say what is wrong, not where (the
// caller knows the file, row group and column).
type ColumnReader struct {
	pages    file.PageReader
	typ      arrow.DataType
	mem      memory.Allocator
	kind     readKind
	pw, ow   int // Parquet and Arrow value widths of fixed kinds
	nullable bool
	err      error // sticky: a reader that failed stays failed
	npage    int   // data pages started

	// the current data page
	left   int // rows not yet read
	nvals  int // its values (levels)
	enc    parquet.Encoding
	levels hybrid
	data   []byte // the values section
	pos    int    // next byte of data (PLAIN, byte array data)
	vi     int    // values read (BYTE_STREAM_SPLIT, PLAIN booleans)
	nsplit int    // values in BYTE_STREAM_SPLIT data
	runs   hybrid // dictionary indices or RLE booleans
	delta  deltaDecoder
	prefix deltaDecoder // DELTA_BYTE_ARRAY prefix lengths
	dbaLen int          // bytes a DELTA_BYTE_ARRAY page decoded to

	// the chunk's dictionary, copied out of its page
	dict      bool
	dictN     int
	dictFixed []byte
	dictData  []byte
	dictOffs  []uint32

	// scratch kept across reads
	idx  []uint32
	conv []byte

	// byte arrays of the Read under way (see read_binary.go)
	segs   []segment
	starts []uint32
	lens   []uint32
	stage  []byte
	prev   []byte
}

// NewColumnReader reads the chunk whose pages are pages (column col, into
// Arrow type t, for which ReadSupported holds) with buffers from mem.
// The reader owns pages: Close closes them.
func NewColumnReader(pages file.PageReader, col *schema.Column, t arrow.DataType, mem memory.Allocator) *ColumnReader {
	r := &ColumnReader{pages: pages, typ: t, mem: mem, nullable: col.MaxDefinitionLevel() > 0}
	var ok bool
	r.kind, r.pw, r.ow, ok = readLayout(col, t)
	if !ok || col.MaxRepetitionLevel() != 0 || col.MaxDefinitionLevel() > 1 {
		r.err = fmt.Errorf("reading %s column %s as %s is not supported", col.PhysicalType(), col.Path(), t)
	}
	return r
}

// Close releases the page reader.
func (r *ColumnReader) Close() error {
	if r.pages == nil {
		return nil
	}
	err := r.pages.Close()
	r.pages = nil
	return err
}

// Read returns the chunk's next n rows (fewer only at the chunk's end; 0
// rows and io.EOF after it). Every value of a page is read, so a chunk
// whose pages hold more rows than its row group has more to Read: a
// caller that knows the row count can tell by reading one more row.
func (r *ColumnReader) Read(n int) (arrow.Array, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.pages == nil {
		return nil, errors.New("reading a closed column reader")
	}
	if n <= 0 {
		return nil, fmt.Errorf("reading %d rows", n)
	}
	if r.left == 0 {
		ok, err := r.nextPage()
		if err != nil {
			r.err = err
			return nil, err
		}
		if !ok {
			return nil, io.EOF
		}
	}
	arr, err := r.read(n)
	if err != nil {
		r.err = err
	}
	return arr, err
}

// advance moves arrow-go's page reader to its next page. It panics on
// some corrupt page headers (a dictionary page without its header, say);
// that becomes this reader's error, as any corrupt page does.
func (r *ColumnReader) advance() (more bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			more, err = false, fmt.Errorf("reading page %d: corrupt page header (arrow-go: %v)", r.npage+1, p)
		}
	}()
	return r.pages.Next(), nil
}

// nextPage moves to the next data page with rows, reading a dictionary
// page on the way; false at the chunk's end.
func (r *ColumnReader) nextPage() (bool, error) {
	for {
		more, err := r.advance()
		if err != nil {
			return false, err
		}
		if !more {
			break
		}
		switch p := r.pages.Page().(type) {
		case *file.DictionaryPage:
			if err := r.readDictionary(p); err != nil {
				return false, fmt.Errorf("reading dictionary page: %w", err)
			}
			continue
		case *file.DataPageV1:
			r.npage++
			err = r.startV1(p)
		case *file.DataPageV2:
			r.npage++
			err = r.startV2(p)
		default:
			continue
		}
		if err != nil {
			return false, fmt.Errorf("reading data page %d: %w", r.npage, err)
		}
		if r.left > 0 {
			return true, nil
		}
	}
	if err := r.pages.Err(); err != nil {
		return false, fmt.Errorf("reading page %d: %w", r.npage+1, err)
	}
	return false, nil
}

func (r *ColumnReader) startV1(p *file.DataPageV1) error {
	data := p.Data()
	if r.nullable {
		if e := p.DefinitionLevelEncoding(); e != parquet.Encodings.RLE {
			return fmt.Errorf("definition levels encoded %s: only RLE is supported", e)
		}
		levels, rest, err := levelsV1(data)
		if err != nil {
			return err
		}
		r.levels.reset(levels, 1)
		data = rest
	}
	return r.startValues(data, int(p.NumValues()), parquet.Encoding(p.Encoding()))
}

func (r *ColumnReader) startV2(p *file.DataPageV2) error {
	if p.NumRows() != p.NumValues() {
		return fmt.Errorf("%d rows but %d values in a column that does not repeat", p.NumRows(), p.NumValues())
	}
	data := p.Data()
	rl, dl := int(p.RepetitionLevelByteLen()), int(p.DefinitionLevelByteLen())
	if rl < 0 || dl < 0 || rl+dl > len(data) {
		return fmt.Errorf("levels of %d+%d bytes past the page's end (%d bytes)", rl, dl, len(data))
	}
	if r.nullable {
		r.levels.reset(data[rl:rl+dl], 1)
	}
	return r.startValues(data[rl+dl:], int(p.NumValues()), parquet.Encoding(p.Encoding()))
}

// startValues prepares reading a page's values section.
func (r *ColumnReader) startValues(data []byte, nv int, enc parquet.Encoding) error {
	if nv < 0 {
		return fmt.Errorf("%d values", nv)
	}
	r.data, r.pos, r.vi, r.nvals, r.enc = data, 0, 0, nv, enc
	r.left = 0 // until the page is known good
	switch enc {
	case parquet.Encodings.Plain:
	case parquet.Encodings.PlainDict, parquet.Encodings.RLEDict:
		if r.kind == readBool {
			return r.unsupported(enc)
		}
		if !r.dict {
			return errors.New("dictionary-encoded page without a dictionary page")
		}
		width := 0
		if len(data) > 0 {
			width = int(data[0])
			data = data[1:]
		}
		if width > 32 {
			return fmt.Errorf("dictionary index bit width %d exceeds 32", width)
		}
		r.runs.reset(data, width)
		r.enc = parquet.Encodings.RLEDict
	case parquet.Encodings.RLE:
		if r.kind != readBool {
			return r.unsupported(enc)
		}
		runs, _, err := levelsV1(data)
		if err != nil {
			return fmt.Errorf("RLE booleans: %w", err)
		}
		r.runs.reset(runs, 1)
	case parquet.Encodings.DeltaBinaryPacked:
		if r.kind != readFixed || r.pw != 4 && r.pw != 8 || !r.isInt() {
			return r.unsupported(enc)
		}
		if err := r.delta.init(data, 8*r.pw, nv); err != nil {
			return err
		}
	case parquet.Encodings.DeltaLengthByteArray:
		if r.kind != readBinary && r.kind != readLargeBinary {
			return r.unsupported(enc)
		}
		end, err := r.delta.lengths(data, nv)
		if err != nil {
			return fmt.Errorf("lengths: %w", err)
		}
		r.pos = end
	case parquet.Encodings.DeltaByteArray:
		if r.kind != readBinary && r.kind != readLargeBinary {
			return r.unsupported(enc)
		}
		e1, err := r.prefix.lengths(data, nv)
		if err != nil {
			return fmt.Errorf("prefix lengths: %w", err)
		}
		e2, err := r.delta.lengths(data[e1:], nv)
		if err != nil {
			return fmt.Errorf("suffix lengths: %w", err)
		}
		r.pos = e1 + e2
		r.prev = r.prev[:0]
		r.dbaLen = 0
	case parquet.Encodings.ByteStreamSplit:
		if r.kind != readFixed {
			return r.unsupported(enc)
		}
		if len(data)%r.pw != 0 {
			return fmt.Errorf("BYTE_STREAM_SPLIT data of %d bytes is not a multiple of %d", len(data), r.pw)
		}
		r.nsplit = len(data) / r.pw
	default:
		return r.unsupported(enc)
	}
	r.left = nv
	return nil
}

func (r *ColumnReader) unsupported(enc parquet.Encoding) error {
	return fmt.Errorf("%s values encoded %s: not supported", r.typ, enc)
}

// isInt says whether the column's Parquet type is INT32 or INT64 (not
// FLOAT or DOUBLE).
func (r *ColumnReader) isInt() bool {
	switch r.typ.ID() {
	case arrow.FLOAT32, arrow.FLOAT64:
		return false
	}
	return true
}

// read reads up to n rows, the first page with rows at hand. Buffers are
// allocated once at the batch's size and every byte exposed is written:
// mem may hand back memory that is not zeroed.
func (r *ColumnReader) read(n int) (arr arrow.Array, err error) {
	var bufs []*memory.Buffer
	defer func() {
		for _, b := range bufs {
			if b != nil {
				b.Release()
			}
		}
	}()
	var valid []byte
	var validBuf *memory.Buffer
	if r.nullable {
		validBuf = newBuf(r.mem, int(bitutil.BytesForBits(int64(n))))
		bufs = append(bufs, validBuf)
		valid = validBuf.Bytes()
		valid[len(valid)-1] = 0 // padding bits
	}
	var valBuf *memory.Buffer
	switch r.kind {
	case readFixed:
		valBuf = newBuf(r.mem, n*r.ow)
	case readBool:
		valBuf = newBuf(r.mem, int(bitutil.BytesForBits(int64(n))))
		valBuf.Bytes()[valBuf.Len()-1] = 0
	case readBinary:
		valBuf = newBuf(r.mem, (n+1)*4)
	case readLargeBinary:
		valBuf = newBuf(r.mem, (n+1)*8)
	}
	bufs = append(bufs, valBuf)
	vals := valBuf.Bytes()
	r.startBinary()
	rows, nulls := 0, 0
	for rows < n {
		if r.left == 0 {
			if err := r.stagePage(); err != nil {
				return nil, err
			}
			ok, err := r.nextPage()
			if err != nil {
				return nil, err
			}
			if !ok {
				break
			}
		}
		m := min(n-rows, r.left)
		k := m
		if r.nullable {
			ones, err := r.levels.bits(valid, rows, m)
			if errors.Is(err, errRunsEnd) {
				err = fmt.Errorf("they end before the page's %d values", r.nvals)
			}
			if err != nil {
				return nil, fmt.Errorf("reading data page %d: definition levels: %w", r.npage, err)
			}
			k = ones
		}
		switch r.kind {
		case readFixed:
			err = r.readFixed(vals, rows, m, k, valid)
		case readBool:
			err = r.readBools(vals, rows, m, k, valid)
		default:
			err = r.readBinaryValues(k)
		}
		if err != nil {
			return nil, fmt.Errorf("reading data page %d: %w", r.npage, err)
		}
		nulls += m - k
		rows += m
		r.left -= m
	}
	if r.nullable && rows < n {
		validBuf.ResizeNoShrink(int(bitutil.BytesForBits(int64(rows))))
		clearPadding(validBuf.Bytes(), rows)
	}
	if nulls == 0 && validBuf != nil {
		validBuf = nil // no nulls: no bitmap (bufs still releases it)
	}
	out := []*memory.Buffer{validBuf, valBuf}
	switch r.kind {
	case readFixed:
		valBuf.ResizeNoShrink(rows * r.ow)
	case readBool:
		valBuf.ResizeNoShrink(int(bitutil.BytesForBits(int64(rows))))
		clearPadding(valBuf.Bytes(), rows)
	case readBinary:
		valBuf.ResizeNoShrink((rows + 1) * 4)
		dataBuf, err := finishBinary(r, arrow.Int32Traits.CastFromBytes(valBuf.Bytes()), valid, rows)
		if err != nil {
			return nil, err
		}
		bufs = append(bufs, dataBuf)
		out = append(out, dataBuf)
	case readLargeBinary:
		valBuf.ResizeNoShrink((rows + 1) * 8)
		dataBuf, err := finishBinary(r, arrow.Int64Traits.CastFromBytes(valBuf.Bytes()), valid, rows)
		if err != nil {
			return nil, err
		}
		bufs = append(bufs, dataBuf)
		out = append(out, dataBuf)
	}
	data := array.NewData(r.typ, rows, out, nil, nulls, 0)
	defer data.Release()
	return array.MakeFromData(data), nil
}

// newBuf is a buffer of size bytes from mem, not necessarily zeroed.
func newBuf(mem memory.Allocator, size int) *memory.Buffer {
	b := memory.NewResizableBuffer(mem)
	b.Resize(size)
	return b
}

// clearPadding zeroes the bits of bitmap b past its first n.
func clearPadding(b []byte, n int) {
	if n%8 != 0 {
		b[n/8] &= byte(1)<<(n%8) - 1
	}
}
