package decode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// defaultLimits are config's defaults for the decompression caps.
var defaultLimits = Options{MaxDecompressedBytes: 64 << 30, MaxCompressionRatio: 100}

// TestHostileParquet checks that Parquet metadata declaring absurd sizes
// fails with a clear error before anything it declares is allocated: none
// of these files, of a few hundred bytes, may cost more than a few MB.
func TestHostileParquet(t *testing.T) {
	v := []int64{1, 2, 3}
	dict := craft{rows: 3, numValues: 3, pageBody: []byte{1, 0x03, 0b010}, dictValues: []int64{7, 9}}
	// An RLE run of 2^27 nulls: six bytes that decode to 134 million rows.
	nulls := craft{optional: true, defLevels: []byte{6, 0, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x01, 0}, numValues: 1 << 27, rows: 1 << 27}
	tests := []struct {
		name string
		c    craft
		opts Options
		msg  string // "" means the file loads
	}{
		{"valid", craft{values: v}, defaultLimits, ""},
		{"schema list declaring 50M elements", craft{values: v, schemaListSize: 50_000_000}, defaultLimits,
			"corrupt Parquet footer: malformed footer: a list declares 50000000 elements with 89 bytes left"},
		{"row group list declaring 50M elements", craft{values: v, rowGroupCount: 50_000_000}, defaultLimits,
			"a list declares 50000000 elements"},
		{"string declaring 90 MB", craft{values: v, createdByLen: 90_000_000}, defaultLimits,
			"a string declares 90000000 bytes with 33 left"},
		{"group declaring 100M children", craft{values: v, rootChildren: 100_000_000}, defaultLimits,
			`schema field "schema" declares 100000000 fields, but 1 elements follow it`},
		{"group declaring -5 children", craft{values: v, rootChildren: -5}, defaultLimits,
			`schema field "schema" declares -5 fields`},
		{"20,000 columns of one name", craft{values: v, extraSchema: 20_000, rootChildren: 20_001}, defaultLimits,
			`corrupt Parquet footer: column "" appears twice`},
		{"column chunk past the end", craft{values: v, chunkOffset: 1 << 40}, defaultLimits,
			"row group 0, column 0: its 41 bytes at offset 1099511627776 lie outside the file's 151 bytes"},
		{"column chunk larger than the file", craft{values: v, chunkSize: 1 << 40}, defaultLimits,
			"lie outside the file"},
		{"column chunk of negative size", craft{values: v, chunkSize: -100}, defaultLimits,
			"its -100 bytes at offset 4 lie outside the file"},
		{"page declaring 200 MiB uncompressed", craft{values: v, pageUncomp: 200 << 20}, defaultLimits,
			"row group 0: parquet: uncompressed page size 209715200 exceeds configured limit 150 (no page of a 150-byte file in its codecs can expand to more than 150 bytes)"},
		{"page declaring 200 MiB compressed", craft{values: v, pageComp: 200 << 20}, defaultLimits,
			"compressed page size 209715200 exceeds configured limit 150 (a page cannot be larger than the file)"},
		{"snappy page declaring 200 MiB", craft{values: v, pageUncomp: 200 << 20, codec: 1}, defaultLimits,
			"exceeds configured limit 4800"},
		// A snappy block names its decoded length up front; the decoder
		// allocated it before finding the rest corrupt (1 GiB, found by
		// FuzzParquet). zstd's frame header names its content size alike; the
		// buffers are the pages' sizes rounded up to 64 bytes by arrow-go.
		{"snappy body declaring 1 GiB in a 25-byte page", craft{values: v, numValues: 3, codec: 1, pageBody: snappyClaiming(1<<30, 20)}, defaultLimits,
			"row group 0: parquet: could not decompress page: the snappy block declares 1073741824 bytes, more than its page's buffer of 64"},
		{"zstd frame declaring 256 MiB in a 400-byte page", craft{values: v, numValues: 3, codec: 6, pageBody: zstdClaiming(256<<20, 400)}, defaultLimits,
			"row group 0: parquet: could not decompress page: the zstd frame declares 268435456 bytes, more than its page's buffer of 448"},
		{"zstd frame of no declared size expanding past its page", craft{values: v, numValues: 3, codec: 6, pageBody: zstdStream(make([]byte, 16<<20)), pageUncomp: 24}, defaultLimits,
			"row group 0: parquet: could not decompress page: decompressed size exceeds configured limit"},
		{"brotli page declaring 200 MiB, capped by bytes", craft{values: v, pageUncomp: 200 << 20, codec: 4}, Options{MaxDecompressedBytes: 1 << 20},
			"exceeds configured limit 1048576 (limits.max_decompressed_bytes caps what this file may expand to at 1048576 bytes; raise it if the file is genuine)"},
		{"dictionary page declaring 200 MiB", func() craft { c := dict; c.dictUncomp = 200 << 20; return c }(), defaultLimits,
			"uncompressed page size 209715200 exceeds configured limit 160"},
		{"dictionary declaring 2^31 values", func() craft { c := dict; c.dictNum = 1<<31 - 1; return c }(), defaultLimits, ""},
		{"data page declaring 2^31 values", craft{values: v, numValues: 1<<31 - 1}, defaultLimits, "eof exception"},
		// arrow-go reads a column of the null logical type whatever its
		// physical type, then panics on the type (found by FuzzParquet).
		{"unknown physical type of the null logical type", craft{values: v, physType: -8, nullType: true}, defaultLimits,
			`corrupt Parquet footer: column "a" has physical type -8, which is not a Parquet type`},
		{"unknown codec", craft{values: v, codec: 99}, defaultLimits, "corrupt Parquet footer: row group 0, column 0: compression for "},
		{"negative rows", craft{values: v, rows: -1}, defaultLimits, "corrupt Parquet footer: the file declares -1 rows"},
		{"2^62 rows", craft{values: v, rows: 1 << 62}, defaultLimits,
			"the file declares 4611686018427387904 rows in 173 bytes; at a byte a row that passes the 67108864-byte cap limits.max_compression_ratio sets for it"},
		{"134 million nulls in 148 bytes", nulls, defaultLimits, "the file declares 134217728 rows in 148 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.c.build()
			const name = "s3://b/hostile.parquet"
			start := time.Now()
			c := costOf(&memObject{name: name, data: data}, tc.opts)
			t.Logf("%d-byte file: %d bytes of Go heap allocated, Arrow peak %d, %d rows, %v: %v",
				len(data), c.goBytes, c.arrowPeak, c.rows, time.Since(start).Round(time.Millisecond), c.err)
			switch {
			case tc.msg == "" && c.err != nil:
				t.Errorf("error %v", c.err)
			case tc.msg != "" && (c.err == nil || !strings.Contains(c.err.Error(), tc.msg)):
				t.Errorf("error %v\nwant one containing %s", c.err, tc.msg)
			case c.err != nil && (!IsPermanent(c.err) || !strings.HasPrefix(c.err.Error(), name+": ")):
				t.Errorf("error %v is not a permanent error naming the file", c.err)
			}
			if c.goBytes > 4<<20 || c.arrowPeak > 1<<20 {
				t.Errorf("cost %d bytes of Go heap and %d of Arrow memory", c.goBytes, c.arrowPeak)
			}
			if c.leaked != 0 {
				t.Errorf("%d bytes of Arrow memory leaked", c.leaked)
			}
		})
	}
}

// TestParquetPageBomb checks a genuine compression bomb in a page: a few
// KB of zstd expanding to more than the file's cap is refused before its
// page is allocated; one under the cap decodes, its cost bounded by it.
func TestParquetPageBomb(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values int
		msg    string
	}{
		{"under the cap", 4 << 20, ""},                                 // 32 MiB of zeros
		{"over the cap", 9 << 20, "exceeds configured limit 67108864"}, // 72 MiB
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := craft{values: make([]int64, tc.values), codec: 6, zstdPage: true}.build()
			start := time.Now()
			c := costOf(&memObject{name: "s3://b/bomb.parquet", data: data}, defaultLimits)
			t.Logf("%d-byte file: %d bytes of Go heap allocated, Arrow peak %d, %d rows, %v: %v",
				len(data), c.goBytes, c.arrowPeak, c.rows, time.Since(start).Round(time.Millisecond), c.err)
			if tc.msg == "" && (c.err != nil || c.rows != int64(tc.values)) ||
				tc.msg != "" && (c.err == nil || !strings.Contains(c.err.Error(), tc.msg)) {
				t.Errorf("%d rows, error %v", c.rows, c.err)
			}
			if c.arrowPeak > RatioFloorBytes+(16<<20) {
				t.Errorf("Arrow peak %d", c.arrowPeak)
			}
		})
	}
}

func TestHostileParquetRowsUnderTheCap(t *testing.T) {
	// The caps off, the null run decodes: the row limit is a policy, and
	// the memory stays bounded whatever the rows.
	nulls := craft{optional: true, defLevels: []byte{6, 0, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x01, 0}, numValues: 1 << 27, rows: 1 << 27}
	start := time.Now()
	c := costOf(&memObject{name: "s3://b/nulls.parquet", data: nulls.build()}, Options{BatchRows: 1 << 20})
	t.Logf("%d rows in %v, Arrow peak %d: %v", c.rows, time.Since(start).Round(time.Millisecond), c.arrowPeak, c.err)
	if c.err != nil || c.rows != 1<<27 {
		t.Fatalf("%d rows, error %v", c.rows, c.err)
	}
	if c.arrowPeak > 32<<20 {
		t.Errorf("Arrow peak %d", c.arrowPeak)
	}
}

func TestCheckSchemaTree(t *testing.T) {
	group := func(name string, n int64) schemaElem { return schemaElem{name: name, children: n} }
	leaf := func(name string) schemaElem { return schemaElem{name: name} }
	deep := []schemaElem{group("root", 1)}
	for range maxSchemaDepth - 1 {
		deep = append(deep, group("g", 1))
	}
	tests := []struct {
		name  string
		elems []schemaElem
		msg   string
	}{
		{"flat", []schemaElem{group("root", 2), leaf("a"), leaf("b")}, ""},
		{"nested", []schemaElem{group("root", 2), group("s", 2), leaf("a"), leaf("b"), leaf("a")}, ""},
		{"same name in two groups", []schemaElem{group("root", 2), group("s", 1), leaf("a"), group("t", 1), leaf("a")}, ""},
		{"no root children", []schemaElem{group("root", 0)}, ""},
		{"two fields of a name", []schemaElem{group("root", 2), leaf("a"), leaf("a")}, `column "a" appears twice`},
		{"two nested fields of a name", []schemaElem{group("root", 1), group("s", 2), leaf("x"), leaf("x")}, `column "s.x" appears twice`},
		{"a dotted name and a group", []schemaElem{group("root", 2), leaf("s.x"), group("s", 1), leaf("x")}, `column "s.x" appears twice`},
		{"more children than elements", []schemaElem{group("root", 3), leaf("a"), leaf("b")}, `schema field "root" declares 3 fields, but 2 elements follow it`},
		{"children missing deeper", []schemaElem{group("root", 2), group("s", 1), leaf("a")}, "declare more fields than it has"},
		{"negative children", []schemaElem{group("root", 1), group("s", -1)}, `schema field "s" declares -1 fields`},
		{"as deep as allowed", append(deep[:len(deep):len(deep)], leaf("x")), ""},
		{"deeper", append(append(deep[:len(deep):len(deep)], group("g", 1)), leaf("x")), "the schema nests deeper than 64 levels"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkSchemaTree(tc.elems)
			if tc.msg == "" && err != nil || tc.msg != "" && (err == nil || !strings.Contains(err.Error(), tc.msg)) {
				t.Errorf("error %v, want %q", err, tc.msg)
			}
		})
	}
}

func TestFooterTooLarge(t *testing.T) {
	data := craft{values: []int64{1}, footerLen: maxFooterBytes + 1}.build()
	data = append(data[:4], append(make([]byte, maxFooterBytes+1), data[4:]...)...)
	res := decodeAll(t, &memObject{name: "s3://b/big.parquet", data: data}, Options{})
	de := mustErrAs[*DataError](t, res.err)
	if !strings.Contains(de.Error(), "s3://b/big.parquet: Parquet footer of 33554433 bytes is over the 33554432-byte maximum") {
		t.Errorf("error %v", de)
	}
	if errors.Is(res.err, ErrLimit) {
		t.Errorf("error %v is a decompression limit", res.err)
	}
}

func TestCheckFooter(t *testing.T) {
	footer := func(body func(w *thriftW)) []byte {
		w := &thriftW{last: []int16{0}}
		w.Elem(func() { body(w) })
		return w.b
	}
	deep := footer(func(w *thriftW) {
		var nest func(n int)
		nest = func(n int) {
			if n > 0 {
				w.Struct(1, func() { nest(n - 1) })
			}
		}
		w.Struct(9, func() { nest(maxThriftDepth + 1) })
	})
	tests := []struct {
		name   string
		footer []byte
		msg    string
	}{
		{"nameless schema element", footer(func(w *thriftW) {
			w.List(2, tcStruct, 2, func() { w.Elem(func() { w.Bin(4, "root") }); w.Elem(func() { w.I32(1, 2) }) })
		}), "schema element 1 has no name"},
		{"schema of strings", footer(func(w *thriftW) {
			w.List(2, tcBinary, 1, func() { w.b = append(w.b, 1, 'a') })
		}), "the schema is not a list of structs"},
		{"a list longer than the footer", footer(func(w *thriftW) { w.List(7, tcI64, 100, func() {}) }), "a list declares 100 elements with 1 bytes left"},
		{"a map longer than the footer", footer(func(w *thriftW) { w.header(7, tcMap); w.b = append(w.b, 0x7f) }), "a map declares 127 entries"},
		{"structures nested too deep", deep, "structures nest deeper than 64"},
		{"no stop", func() []byte { f := footer(func(w *thriftW) { w.Bin(6, "parquet-cpp") }); return f[:len(f)-1] }(), "it ends inside a value"},
		{"a varint cut short", footer(func(w *thriftW) { w.I64(3, 1<<40) })[:3], "a bad varint"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkFooter(tc.footer)
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %v, want one containing %q", err, tc.msg)
			}
		})
	}
}

// snappyClaiming is a snappy block whose header declares size decoded
// bytes, followed by n bytes that are not a valid block.
func snappyClaiming(size uint64, n int) []byte {
	b := binary.AppendUvarint(nil, size)
	return append(b, bytes.Repeat([]byte{0xff}, n)...)
}

// zstdClaiming is a zstd frame whose header declares size content bytes
// and whose first block is cut off after n bytes of literals.
func zstdClaiming(size uint64, n int) []byte {
	b := []byte{0x28, 0xb5, 0x2f, 0xfd, 0xe0} // magic; descriptor: 8-byte content size, single segment
	b = binary.LittleEndian.AppendUint64(b, size)
	// A raw block, the last, that declares more bytes than follow.
	blockLen := uint32(n + 1000)
	hdr := blockLen<<3 | 1
	b = append(b, byte(hdr), byte(hdr>>8), byte(hdr>>16))
	return append(b, bytes.Repeat([]byte{0}, n)...)
}

// zstdStream is src compressed as a stream, whose frame does not declare
// its content size.
func zstdStream(src []byte) []byte {
	var b bytes.Buffer
	w, _ := zstd.NewWriter(&b)
	w.Write(src)
	w.Close()
	return b.Bytes()
}
