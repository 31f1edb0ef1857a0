package decode

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// The text decoders write values straight into the memory of the arrays
// they emit: no builder calls per value, no growth by copying in steady
// state. Every write is to row index n and overwrites what was there, so a
// row the fast path started and gave up on can be written again from the
// start by the general path.

// colKind is how a column is stored while a batch is built.
type colKind uint8

const (
	colGeneric   colKind = iota // an array.Builder fed by a textAppender
	colInt64                    // int64
	colFloat64                  // float64
	colString                   // utf8, validated
	colBinary                   // binary
	colBool                     // bool
	colTimestamp                // timestamp, any unit
	colDate32                   // date32
)

const (
	// firstBatchRows is the row capacity a decode starts with: enough for
	// a small file, grown by doubling up to the batch size.
	firstBatchRows = 256
	// maxBatchStrBytes ends a batch early when one string column holds
	// this much, bounding a batch's memory and keeping int32 offsets far
	// from overflow (one record adds at most maxRecordBytes).
	maxBatchStrBytes = 64 << 20
)

var errNonNullable = errors.New("null value in a non-nullable column")

// column is one column of the batch being built.
type column struct {
	field arrow.Field
	kind  colKind
	unit  int  // timestamp unit, arrow.TimeUnit's order
	fused bool // the fast path may parse the value while finding its end

	valid *memory.Buffer // validity bitmap: all set until a null clears a bit
	vbits []byte
	vals  *memory.Buffer // values; for strings, their bytes
	offs  *memory.Buffer // string offsets
	i64   []int64        // views of vals (and offs) by kind
	f64   []float64
	i32   []int32
	bits  []byte
	o32   []int32
	str   []byte // the string bytes so far; cap is vals' capacity

	bld array.Builder // colGeneric
	app textAppender
	// chunks are a colGeneric column's rows before a rejected row cut
	// its builder (reject.go), base their count.
	chunks []arrow.Array
	base   int
	// style, when set, is how the column's values differ from the
	// defaults: a decimal comma, a format or a zone (textformat.go).
	style *textStyle

	date dateCache
}

// columns is a batch under construction.
type columns struct {
	mem    *recycler // the batches' buffers
	mem0   memory.Allocator
	schema *arrow.Schema
	cols   []column // in schema order
	nulls  []string
	n      int  // complete rows
	cap    int  // row capacity of the buffers
	limit  int  // rows per batch
	full   bool // a string column passed strLimit
	// strLimit is maxBatchStrBytes (a field so tests can lower it).
	strLimit int
	strCap   []int
	next     int   // the row capacity of the next batch's buffers
	total    int64 // rows emitted
}

// rawKind is the raw storage kind for dt, or colGeneric.
func rawKind(dt arrow.DataType) colKind {
	switch dt.ID() {
	case arrow.INT64:
		return colInt64
	case arrow.FLOAT64:
		return colFloat64
	case arrow.STRING:
		return colString
	case arrow.BINARY:
		return colBinary
	case arrow.BOOL:
		return colBool
	case arrow.TIMESTAMP:
		return colTimestamp
	case arrow.DATE32:
		return colDate32
	}
	return colGeneric
}

func newColumns(mem memory.Allocator, schema *arrow.Schema, limit int, nulls []string) *columns {
	cs := &columns{mem: newRecycler(mem), mem0: mem, schema: schema, nulls: nulls, limit: limit, cols: make([]column, schema.NumFields()),
		strLimit: maxBatchStrBytes}
	for j, f := range schema.Fields() {
		c := &cs.cols[j]
		c.field = f
		c.kind = rawKind(f.Type)
		if ts, ok := f.Type.(*arrow.TimestampType); ok {
			c.unit = int(ts.Unit)
		}
		if c.kind == colGeneric {
			c.bld = array.NewBuilder(mem, f.Type)
		}
	}
	// A column's format is in its field, whatever the file's format.
	cs.setText(textOptions{})
	cs.strCap = make([]int, len(cs.cols))
	cs.next = min(limit, firstBatchRows)
	return cs
}

// setText sets how the columns' text writes numbers and times (with each
// field's format); call it before the first value.
func (cs *columns) setText(o textOptions) {
	for j := range cs.cols {
		c := &cs.cols[j]
		c.style = styleFor(c.field, o)
		if c.kind != colGeneric || !isTextType(c.field.Type) {
			continue // else JSON fills it, with its own appender
		}
		if c.style != nil {
			c.app = c.style.appender(c.bld, c.field.Type)
		} else {
			c.app = newTextAppender(c.bld, c.field.Type)
		}
	}
}

// room makes sure every column has room for row n: call it before
// writing a row. Buffers are allocated here rather than after a flush, so
// the end of a file allocates nothing.
func (cs *columns) room() {
	if cs.n < cs.cap {
		return
	}
	if cs.cap == 0 {
		cs.alloc(cs.next)
	} else {
		cs.grow()
	}
}

// alloc gives every raw column fresh buffers for rows rows.
func (cs *columns) alloc(rows int) {
	cs.cap = rows
	for j := range cs.cols {
		c := &cs.cols[j]
		if c.kind == colGeneric {
			continue
		}
		c.valid = memory.NewResizableBuffer(cs.mem)
		c.vals = memory.NewResizableBuffer(cs.mem)
		if c.kind == colString || c.kind == colBinary {
			c.offs = memory.NewResizableBuffer(cs.mem)
			c.str = nil
			c.growStr(max(cs.strCap[j], 16*rows))
		}
		c.resize(0, rows)
	}
}

// grow doubles the row capacity, up to the batch size.
func (cs *columns) grow() {
	rows := min(2*cs.cap, cs.limit)
	for j := range cs.cols {
		if c := &cs.cols[j]; c.kind != colGeneric {
			c.resize(cs.cap, rows)
		}
	}
	cs.cap = rows
}

// resize makes room for rows rows, keeping the first old.
func (c *column) resize(old, rows int) {
	c.valid.Reserve(int(bitutil.BytesForBits(int64(rows))))
	c.vbits = c.valid.Buf()
	for i := int(bitutil.BytesForBits(int64(old))); i < len(c.vbits); i++ {
		c.vbits[i] = 0xFF
	}
	switch c.kind {
	case colInt64, colTimestamp:
		c.vals.Reserve(8 * rows)
		c.i64 = arrow.Int64Traits.CastFromBytes(c.vals.Buf())
	case colFloat64:
		c.vals.Reserve(8 * rows)
		c.f64 = arrow.Float64Traits.CastFromBytes(c.vals.Buf())
	case colDate32:
		c.vals.Reserve(4 * rows)
		c.i32 = arrow.Int32Traits.CastFromBytes(c.vals.Buf())
	case colBool:
		c.vals.Reserve(int(bitutil.BytesForBits(int64(rows))))
		c.bits = c.vals.Buf()
		// Allocators need not zero memory; values are set bit by bit.
		for i := int(bitutil.BytesForBits(int64(old))); i < len(c.bits); i++ {
			c.bits[i] = 0
		}
	case colString, colBinary:
		c.offs.Reserve(4 * (rows + 1))
		c.o32 = arrow.Int32Traits.CastFromBytes(c.offs.Buf())
		if old == 0 {
			c.o32[0] = 0
		}
	}
}

// growStr makes room for need bytes of strings in total.
func (c *column) growStr(need int) {
	c.vals.Reserve(max(need, 2*cap(c.str)))
	c.str = c.vals.Buf()[:len(c.str)]
}

// setNull makes row n null (and its value zero, so output is
// deterministic).
func (c *column) setNull(n int) {
	if c.kind == colGeneric {
		c.bld.AppendNull()
		return
	}
	c.vbits[n>>3] &^= 1 << (n & 7)
	switch c.kind {
	case colInt64, colTimestamp:
		c.i64[n] = 0
	case colFloat64:
		c.f64[n] = 0
	case colDate32:
		c.i32[n] = 0
	case colBool:
		c.bits[n>>3] &^= 1 << (n & 7)
	case colString, colBinary:
		c.o32[n+1] = c.o32[n]
		c.str = c.str[:c.o32[n]]
	}
}

// setValid marks row n valid. A row's bit is set before any value is
// written (resize fills the bitmap with ones, rejectRow sets it back), so
// a decoder whose only writes to the bitmap are setNull's needs no call
// per value: the JSON decoder makes none (it was ~3% of a JSON lines
// load); parsing an object again after more input clears the same bits.
func (c *column) setValid(n int) { c.vbits[n>>3] |= 1 << (n & 7) }

func (c *column) setBool(n int, v bool) {
	if v {
		c.bits[n>>3] |= 1 << (n & 7)
	} else {
		c.bits[n>>3] &^= 1 << (n & 7)
	}
}

// setStr sets row n's string and returns the column's string bytes so
// far, which the caller compares with strLimit.
func (c *column) setStr(n int, f []byte) int {
	s := c.str[:c.o32[n]]
	if len(s)+len(f) > cap(s) {
		c.growStr(len(s) + len(f))
		s = c.str[:c.o32[n]]
	}
	s = append(s, f...) // within capacity: writes into vals
	c.str = s
	c.o32[n+1] = int32(len(s))
	return len(s)
}

// setShort sets row n's string to the first k bytes of src16, which
// holds 16 readable bytes: two 8-byte moves instead of a copy call, the
// bytes past k landing in spare capacity.
func (c *column) setShort(n int, src16 []byte, k int) {
	s := c.str[:c.o32[n]]
	if cap(s)-len(s) < 16 {
		c.growStr(len(s) + 16)
		s = c.str[:c.o32[n]]
	}
	dst := s[len(s) : len(s)+16]
	binary.LittleEndian.PutUint64(dst, binary.LittleEndian.Uint64(src16))
	binary.LittleEndian.PutUint64(dst[8:], binary.LittleEndian.Uint64(src16[8:]))
	c.str = s[:len(s)+k]
	c.o32[n+1] = int32(len(c.str))
}

// put parses one field into row n: the general path, for any field. The
// error names the value, not the file or column.
func (cs *columns) put(c *column, n int, f []byte, quoted bool) error {
	if !quoted && isNull(f, cs.nulls) {
		if !c.field.Nullable {
			return errNonNullable
		}
		c.setNull(n)
		return nil
	}
	if c.kind == colGeneric {
		return c.app(f)
	}
	if c.style != nil {
		return c.putStyled(n, f)
	}
	fail := func(err error) error {
		return fmt.Errorf("parsing %q as %s: %w", clip(f), c.field.Type, err)
	}
	switch c.kind {
	case colInt64:
		v, err := parseInt(trimSpace(f), 64)
		if err != nil {
			return fail(err)
		}
		c.i64[n] = v
	case colFloat64:
		v, err := parseFloat(trimSpace(f), 64)
		if err != nil {
			return fail(err)
		}
		c.f64[n] = v
	case colString, colBinary:
		if c.kind == colString && !utf8.Valid(f) {
			return errUTF8
		}
		if c.setStr(n, f) > cs.strLimit {
			cs.full = true
		}
	case colBool:
		v, err := parseBool(trimSpace(f))
		if err != nil {
			return fail(err)
		}
		c.setBool(n, v)
	case colDate32:
		v, err := parseDate(trimSpace(f))
		if err != nil {
			return fail(err)
		}
		c.i32[n] = v
	case colTimestamp:
		v := trimSpace(f)
		sec, nsec, err := parseTimestamp(v)
		if err != nil {
			// A bare date is midnight.
			days, derr := parseDate(v)
			if derr != nil {
				return fail(err)
			}
			sec, nsec = int64(days)*86400, 0
		}
		ts, err := timestampIn(sec, nsec, c.unit)
		if err != nil {
			return fail(err)
		}
		c.i64[n] = ts
	}
	c.setValid(n)
	return nil
}

// rowDone counts a complete row, emitting the batch when it is full.
func (cs *columns) rowDone(ctx context.Context, emit func(arrow.RecordBatch) error) error {
	cs.n++
	if cs.n >= cs.limit || cs.full {
		return cs.flush(ctx, emit)
	}
	return nil
}

// flush emits the rows so far, if any, and starts a new batch. emit's
// error is returned unchanged: it is the caller's own.
func (cs *columns) flush(ctx context.Context, emit func(arrow.RecordBatch) error) error {
	if cs.n == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	n := cs.n
	arrs := make([]arrow.Array, len(cs.cols))
	var ferr error
	for j := range cs.cols {
		a, err := cs.finish(j, n)
		arrs[j] = a
		ferr = cmp.Or(ferr, err)
	}
	cs.next = cs.cap
	cs.n, cs.cap, cs.full = 0, 0, false
	if ferr != nil {
		for _, a := range arrs {
			if a != nil {
				a.Release()
			}
		}
		return ferr
	}
	rec := array.NewRecordBatch(cs.schema, arrs, int64(n))
	for _, a := range arrs {
		a.Release()
	}
	err := emit(rec)
	rec.Release()
	if err != nil {
		return err
	}
	cs.total += int64(n)
	return nil
}

// finish turns column j's first n rows into an array, handing its buffers
// over.
func (cs *columns) finish(j, n int) (arrow.Array, error) {
	c := &cs.cols[j]
	if c.kind == colGeneric {
		if c.chunks != nil {
			return cs.finishChunks(c)
		}
		return c.bld.NewArray(), nil
	}
	nulls := n - bitutil.CountSetBits(c.vbits, 0, n)
	valid := c.valid
	if nulls == 0 {
		valid = nil // no bitmap, as Arrow allows; a builder leaves it out too
	} else {
		valid.ResizeNoShrink(int(bitutil.BytesForBits(int64(n))))
	}
	var bufs []*memory.Buffer
	switch c.kind {
	case colString, colBinary:
		c.offs.ResizeNoShrink(4 * (n + 1))
		c.vals.ResizeNoShrink(len(c.str))
		cs.strCap[j] = len(c.str) + len(c.str)/8
		bufs = []*memory.Buffer{valid, c.offs, c.vals}
	case colBool:
		c.vals.ResizeNoShrink(int(bitutil.BytesForBits(int64(n))))
		bufs = []*memory.Buffer{valid, c.vals}
	case colDate32:
		c.vals.ResizeNoShrink(4 * n)
		bufs = []*memory.Buffer{valid, c.vals}
	default:
		c.vals.ResizeNoShrink(8 * n)
		bufs = []*memory.Buffer{valid, c.vals}
	}
	d := array.NewData(c.field.Type, n, bufs, nil, nulls, 0)
	a := array.MakeFromData(d)
	d.Release()
	c.releaseBuffers()
	return a, nil
}

func (c *column) releaseBuffers() {
	for _, b := range []*memory.Buffer{c.valid, c.vals, c.offs} {
		if b != nil {
			b.Release()
		}
	}
	c.valid, c.vals, c.offs = nil, nil, nil
	c.i64, c.f64, c.i32, c.bits, c.o32, c.str, c.vbits = nil, nil, nil, nil, nil, nil, nil
}

func (cs *columns) release() {
	for j := range cs.cols {
		c := &cs.cols[j]
		c.releaseBuffers()
		if c.bld != nil {
			c.bld.Release()
		}
		releaseAll(c.chunks)
	}
	cs.mem.close()
}
