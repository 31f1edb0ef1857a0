package decode

// Hand-built Parquet files whose footers and page headers say whatever a
// test wants, to check what hostile metadata costs.

import (
	"context"
	"encoding/binary"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/klauspost/compress/zstd"
)

// thriftW writes Thrift's compact protocol.
type thriftW struct {
	b    []byte
	last []int16 // the previous field id of each open struct
}

func (w *thriftW) header(id int16, typ byte) {
	last := &w.last[len(w.last)-1]
	if d := id - *last; d > 0 && d <= 15 {
		w.b = append(w.b, byte(d)<<4|typ)
	} else {
		w.b = append(w.b, typ)
		w.b = binary.AppendUvarint(w.b, zigzag(int64(id)))
	}
	*last = id
}

func (w *thriftW) varint(v int64) { w.b = binary.AppendUvarint(w.b, zigzag(v)) }

func (w *thriftW) I32(id int16, v int32) { w.header(id, tcI32); w.varint(int64(v)) }
func (w *thriftW) I64(id int16, v int64) { w.header(id, tcI64); w.varint(v) }

func (w *thriftW) Bin(id int16, s string) {
	w.header(id, tcBinary)
	w.b = binary.AppendUvarint(w.b, uint64(len(s)))
	w.b = append(w.b, s...)
}

// Struct writes a struct field whose fields body writes.
func (w *thriftW) Struct(id int16, body func()) {
	w.header(id, tcStruct)
	w.Elem(body)
}

// Elem writes a struct as a list element, or at the top level.
func (w *thriftW) Elem(body func()) {
	w.last = append(w.last, 0)
	body()
	w.b = append(w.b, tcStop)
	w.last = w.last[:len(w.last)-1]
}

// List writes a list field's header declaring n elements of type elem;
// body writes the elements (as many as it likes).
func (w *thriftW) List(id int16, elem byte, n int, body func()) {
	w.header(id, tcList)
	if n < 15 {
		w.b = append(w.b, byte(n)<<4|elem)
	} else {
		w.b = append(w.b, 0xf0|elem)
		w.b = binary.AppendUvarint(w.b, uint64(n))
	}
	body()
}

// craft describes a one-column Parquet file: an INT64 column "a", one row
// group, one PLAIN data page and optionally a dictionary page. Its fields
// are what the metadata declares; zero values mean the truth.
type craft struct {
	values     []int64
	pageBody   []byte  // the data page's values as stored, instead of values
	optional   bool    // the column is OPTIONAL: def levels precede values
	defLevels  []byte  // raw def-level bytes (RLE with length prefix) when optional
	codec      int32   // the column chunk's codec (the page is stored as is)
	physType   int32   // the leaf's physical type; 0 means INT64
	nullType   bool    // the leaf's logical type is UNKNOWN (always null)
	zstdPage   bool    // compress the data page with zstd (set codec 6)
	rows       int64   // row group and file num_rows
	numValues  int32   // the data page's num_values
	pageUncomp int32   // the data page's uncompressed_page_size
	pageComp   int32   // its compressed_page_size
	dictValues []int64 // a PLAIN dictionary page before the data page
	dictNum    int32   // the dictionary page's num_values
	dictUncomp int32

	chunkOffset, chunkSize int64 // data_page_offset and total_compressed_size; -1 means 0

	rootChildren   int32 // the root's num_children
	schemaListSize int   // the declared length of the schema list
	extraSchema    int   // schema elements written after the leaf
	rowGroupCount  int   // the declared length of the row group list
	createdByLen   int   // the declared length of created_by
	footerLen      int64 // the footer length at the file's end
}

func (c craft) build() []byte {
	out := []byte("PAR1")
	var dictOff int64
	if c.dictValues != nil {
		dictOff = int64(len(out))
		data := int64s(c.dictValues)
		h := &thriftW{last: []int16{0}}
		h.Elem(func() {
			h.I32(1, 2) // DICTIONARY_PAGE
			h.I32(2, or32(c.dictUncomp, int32(len(data))))
			h.I32(3, int32(len(data)))
			h.Struct(7, func() {
				h.I32(1, or32(c.dictNum, int32(len(c.dictValues))))
				h.I32(2, 0) // PLAIN
			})
		})
		out = append(append(out, h.b...), data...)
	}
	dataOff := int64(len(out))
	var body []byte
	if c.optional {
		body = append(body, c.defLevels...)
	}
	if c.pageBody != nil {
		body = append(body, c.pageBody...)
	} else {
		body = append(body, int64s(c.values)...)
	}
	uncompressed := len(body)
	if c.zstdPage {
		z, _ := zstd.NewWriter(nil)
		body = z.EncodeAll(body, nil)
		z.Close()
	}
	enc := int32(0) // PLAIN
	if c.dictValues != nil {
		enc = 8 // RLE_DICTIONARY
	}
	h := &thriftW{last: []int16{0}}
	h.Elem(func() {
		h.I32(1, 0) // DATA_PAGE
		h.I32(2, or32(c.pageUncomp, int32(uncompressed)))
		h.I32(3, or32(c.pageComp, int32(len(body))))
		h.Struct(5, func() {
			h.I32(1, or32(c.numValues, int32(len(c.values))))
			h.I32(2, enc)
			h.I32(3, 3) // RLE levels
			h.I32(4, 3)
		})
	})
	out = append(append(out, h.b...), body...)
	chunkLen := int64(len(out)) - 4
	start := dataOff
	if c.dictValues != nil {
		start = dictOff
	}
	rows := c.rows
	if rows == 0 {
		rows = int64(len(c.values))
	}
	w := &thriftW{last: []int16{0}}
	w.Elem(func() {
		w.I32(1, 2)
		n := 2 + c.extraSchema
		w.List(2, tcStruct, orInt(c.schemaListSize, n), func() {
			w.Elem(func() {
				w.Bin(4, "schema")
				w.I32(5, or32(c.rootChildren, 1))
			})
			w.Elem(func() {
				w.I32(1, or32(c.physType, 2)) // INT64
				rep := int32(0)
				if c.optional {
					rep = 1
				}
				w.I32(3, rep)
				w.Bin(4, "a")
				if c.nullType {
					w.Struct(10, func() { w.Struct(11, func() {}) })
				}
			})
			for range c.extraSchema {
				w.Elem(func() { w.Bin(4, "") })
			}
		})
		w.I64(3, rows)
		w.List(4, tcStruct, orInt(c.rowGroupCount, 1), func() {
			w.Elem(func() {
				w.List(1, tcStruct, 1, func() {
					w.Elem(func() {
						w.I64(2, start)
						w.Struct(3, func() {
							w.I32(1, 2)
							w.List(2, tcI32, 1, func() { w.varint(0) })
							w.List(3, tcBinary, 1, func() { w.b = append(w.b, 1, 'a') })
							w.I32(4, c.codec)
							w.I64(5, rows)
							w.I64(6, chunkLen)
							w.I64(7, or64(c.chunkSize, chunkLen))
							w.I64(9, or64(c.chunkOffset, dataOff))
							if c.dictValues != nil {
								w.I64(11, dictOff)
							}
						})
					})
				})
				w.I64(2, chunkLen)
				w.I64(3, rows)
			})
		})
		if c.createdByLen > 0 {
			w.header(6, tcBinary)
			w.b = binary.AppendUvarint(w.b, uint64(c.createdByLen))
			w.b = append(w.b, "parquet-cpp-arrow version 18.0.0"...)
		} else {
			w.Bin(6, "parquet-cpp-arrow version 18.0.0")
		}
	})
	out = append(out, w.b...)
	out = binary.LittleEndian.AppendUint32(out, uint32(or64(c.footerLen, int64(len(w.b)))))
	return append(out, "PAR1"...)
}

func int64s(vs []int64) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint64(b, uint64(v))
	}
	return b
}

func or32(v, d int32) int32 {
	if v != 0 {
		return v
	}
	return d
}

func or64(v, d int64) int64 {
	switch {
	case v == -1:
		return 0
	case v != 0:
		return v
	}
	return d
}

func orInt(v, d int) int {
	if v != 0 {
		return v
	}
	return d
}

// peakAllocator tracks the most Arrow memory held at once.
type peakAllocator struct {
	memory.Allocator
	mu        sync.Mutex
	cur, peak int64
}

func (a *peakAllocator) add(n int) {
	a.mu.Lock()
	a.cur += int64(n)
	a.peak = max(a.peak, a.cur)
	a.mu.Unlock()
}

func (a *peakAllocator) Allocate(n int) []byte { a.add(n); return a.Allocator.Allocate(n) }

func (a *peakAllocator) Reallocate(n int, b []byte) []byte {
	a.add(n - len(b))
	return a.Allocator.Reallocate(n, b)
}

func (a *peakAllocator) Free(b []byte) { a.add(-len(b)); a.Allocator.Free(b) }

// cost is what reading one file took.
type cost struct {
	err       error
	rows      int64
	goBytes   uint64 // Go heap allocated during Infer and Decode (TotalAlloc)
	arrowPeak int64  // the most Arrow memory held at once
	leaked    int64  // Arrow memory still held after every batch was released
}

// costOf infers and decodes obj with opts, measuring allocations.
func costOf(obj Object, opts Options) cost {
	peak := &peakAllocator{Allocator: memory.NewGoAllocator()}
	mem := memory.NewCheckedAllocator(peak)
	opts.Mem = mem
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var c cost
	schema, err := Infer(context.Background(), obj, opts)
	if err == nil {
		opts.Schema = schema
		c.rows, err = Decode(context.Background(), obj, opts, func(arrow.RecordBatch) error { return nil })
	}
	runtime.ReadMemStats(&after)
	c.err = err
	c.goBytes = after.TotalAlloc - before.TotalAlloc
	c.arrowPeak = peak.peak
	c.leaked = int64(mem.CurrentAlloc())
	return c
}

// TestCraftedParquetIsValid checks that the crafting itself makes a good
// file when asked for no lies, so hostile variants fail for their lie.
func TestCraftedParquetIsValid(t *testing.T) {
	tests := []struct {
		c    craft
		rows string
	}{
		{craft{values: []int64{1, 2, 3}}, "1,2,3"},
		// Indices 0 1 0 bit-packed at width 1: one group of 8.
		{craft{rows: 3, numValues: 3, pageBody: []byte{1, 0x03, 0b010}, dictValues: []int64{7, 9}}, "7,9,7"},
		// Def levels 1 0 1 (RLE, length-prefixed, bit-packed), two values.
		{craft{optional: true, defLevels: []byte{2, 0, 0, 0, 0x03, 0b101}, numValues: 3, rows: 3, values: []int64{4, 5}}, "4,null,5"},
	}
	for _, tc := range tests {
		res := decodeAll(t, &memObject{name: "s3://b/c.parquet", data: tc.c.build()}, Options{})
		if res.err != nil || strings.Join(res.rows, ",") != tc.rows {
			t.Errorf("rows %q, error %v; want %s", res.rows, res.err, tc.rows)
		}
	}
}
