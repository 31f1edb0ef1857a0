package flatparquet

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// hostileReader is a ColumnReader of an INT64 (or BYTE_ARRAY) column
// with a dictionary of 3 values, for driving the page decoders directly.
func hostileReader(t *testing.T, phys parquet.Type, dt arrow.DataType, nullable bool) *ColumnReader {
	t.Helper()
	rep := parquet.Repetitions.Required
	if nullable {
		rep = parquet.Repetitions.Optional
	}
	node, err := schema.NewPrimitiveNode("a", rep, phys, -1, -1)
	if err != nil {
		t.Fatal(err)
	}
	root, err := schema.NewGroupNode("schema", parquet.Repetitions.Required, schema.FieldList{node}, -1)
	if err != nil {
		t.Fatal(err)
	}
	col := schema.NewSchema(root).Column(0)
	r := NewColumnReader(nil, col, dt, memory.DefaultAllocator)
	if r.err != nil {
		t.Fatal(r.err)
	}
	r.dict, r.dictN = true, 3
	r.dictFixed = make([]byte, 24)
	r.dictData, r.dictOffs = []byte("abc"), []uint32{0, 1, 2, 3}
	return r
}

func uvarint(v uint64) []byte { return binary.AppendUvarint(nil, v) }

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// TestHostilePages feeds corrupt value sections to the page decoders.
func TestHostilePages(t *testing.T) {
	i64, str := parquet.Types.Int64, parquet.Types.ByteArray
	for _, tc := range []struct {
		name string
		phys parquet.Type
		dt   arrow.DataType
		enc  parquet.Encoding
		data []byte
		nv   int
		msg  string
	}{
		{"dictionary index out of range", i64, arrow.PrimitiveTypes.Int64, parquet.Encodings.RLEDict,
			cat([]byte{17}, uvarint(4<<1), []byte{0x70, 0x11, 0x01}), 4, "dictionary index 70000 out of range (dictionary of 3 values)"},
		{"bit-packed index out of range", i64, arrow.PrimitiveTypes.Int64, parquet.Encodings.RLEDict,
			cat([]byte{3}, uvarint(1<<1|1), []byte{0xff, 0xff, 0xff}), 8, "out of range (dictionary of 3 values)"},
		{"index bit width 33", i64, arrow.PrimitiveTypes.Int64, parquet.Encodings.RLEDict, []byte{33, 2, 0}, 1, "bit width 33 exceeds 32"},
		{"indices end early", i64, arrow.PrimitiveTypes.Int64, parquet.Encodings.RLEDict, cat([]byte{2}, uvarint(2<<1), []byte{1}), 5, "end before the page's 5 values"},
		{"truncated plain", i64, arrow.PrimitiveTypes.Int64, parquet.Encodings.Plain, make([]byte, 20), 3, "PLAIN values truncated"},
		{"byte array past the end", str, arrow.BinaryTypes.String, parquet.Encodings.Plain, cat([]byte{100, 0, 0, 0}, []byte("ab")), 1, "past the page's end"},
		{"split not a multiple", i64, arrow.PrimitiveTypes.Int64, parquet.Encodings.ByteStreamSplit, make([]byte, 17), 2, "not a multiple of 8"},
		{"split short", i64, arrow.PrimitiveTypes.Int64, parquet.Encodings.ByteStreamSplit, make([]byte, 16), 3, "BYTE_STREAM_SPLIT data holds 2 values"},
		{"delta block of 100 values", i64, arrow.PrimitiveTypes.Int64, parquet.Encodings.DeltaBinaryPacked,
			cat(uvarint(100), uvarint(4), uvarint(3), uvarint(0)), 3, "not a positive multiple of 128"},
		{"delta absurd block", i64, arrow.PrimitiveTypes.Int64, parquet.Encodings.DeltaBinaryPacked,
			cat(uvarint(1<<40), uvarint(4), uvarint(3), uvarint(0)), 3, "not a positive multiple of 128"},
		{"delta miniblocks of 16", i64, arrow.PrimitiveTypes.Int64, parquet.Encodings.DeltaBinaryPacked,
			cat(uvarint(128), uvarint(8), uvarint(3), uvarint(0)), 3, "not multiples of 32"},
		{"delta count over the page's", i64, arrow.PrimitiveTypes.Int64, parquet.Encodings.DeltaBinaryPacked,
			cat(uvarint(128), uvarint(4), uvarint(1<<40), uvarint(0)), 3, "claims 1099511627776 values, the page 3"},
		{"delta width 65", i64, arrow.PrimitiveTypes.Int64, parquet.Encodings.DeltaBinaryPacked,
			cat(uvarint(128), uvarint(4), uvarint(3), uvarint(0), uvarint(0), []byte{65, 0, 0, 0}), 3, "bit width 65 exceeds 64"},
		{"delta too few values", i64, arrow.PrimitiveTypes.Int64, parquet.Encodings.DeltaBinaryPacked,
			cat(uvarint(128), uvarint(4), uvarint(1), uvarint(0)), 3, "values exhausted"},
		{"delta length past the end", str, arrow.BinaryTypes.String, parquet.Encodings.DeltaLengthByteArray,
			cat(uvarint(128), uvarint(4), uvarint(1), uvarint(200), []byte("xy")), 1, "past the page's end"},
		{"delta lengths truncated", str, arrow.BinaryTypes.String, parquet.Encodings.DeltaLengthByteArray,
			cat(uvarint(128), uvarint(4), uvarint(3), uvarint(0), uvarint(0), []byte{8, 8}), 3, "truncated"},
		{"prefix longer than the previous value", str, arrow.BinaryTypes.String, parquet.Encodings.DeltaByteArray,
			cat(cat(uvarint(128), uvarint(4), uvarint(1), uvarint(10)), cat(uvarint(128), uvarint(4), uvarint(1), uvarint(0))), 1, "prefix of 5 bytes of a previous value of 0"},
		{"RLE booleans end early", parquet.Types.Boolean, arrow.FixedWidthTypes.Boolean, parquet.Encodings.RLE,
			cat([]byte{2, 0, 0, 0}, uvarint(2<<1), []byte{1}), 4, "end before"},
		{"RLE boolean run value 2", parquet.Types.Boolean, arrow.FixedWidthTypes.Boolean, parquet.Encodings.RLE,
			cat([]byte{2, 0, 0, 0}, uvarint(2<<1), []byte{2}), 2, "run value 2 wider than 1 bits"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := hostileReader(t, tc.phys, tc.dt, false)
			err := r.startValues(tc.data, tc.nv, tc.enc)
			if err == nil {
				var arr arrow.Array
				arr, err = r.read(tc.nv)
				if err == nil {
					arr.Release()
				}
			}
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %v, want one containing %q", err, tc.msg)
			}
		})
	}
}

// TestHostileLevels feeds corrupt definition levels to a nullable column.
func TestHostileLevels(t *testing.T) {
	for _, tc := range []struct {
		name   string
		levels []byte
		nv     int
		msg    string
	}{
		{"levels past the page", []byte{50, 0, 0, 0, 1}, 3, "past the page's end"},
		{"fewer levels than values", cat([]byte{2, 0, 0, 0}, uvarint(2<<1), []byte{1}), 5, "end before the page's 5 values"},
		{"level 3", cat([]byte{2, 0, 0, 0}, uvarint(2<<1), []byte{3}), 2, "run value 3 wider than 1 bits"},
		{"run of no values", cat([]byte{2, 0, 0, 0}, uvarint(0), []byte{1}), 2, "a run of no values"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := hostileReader(t, parquet.Types.Int64, arrow.PrimitiveTypes.Int64, true)
			levels, rest, err := levelsV1(append(tc.levels, make([]byte, 8*tc.nv)...))
			if err == nil {
				r.levels.reset(levels, 1)
				if err = r.startValues(rest, tc.nv, parquet.Encodings.Plain); err == nil {
					var arr arrow.Array
					if arr, err = r.read(tc.nv); err == nil {
						arr.Release()
					}
				}
			}
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %v, want one containing %q", err, tc.msg)
			}
		})
	}
}

// TestReadSupported: the types and encodings ColumnReader reads, and
// those left to pqarrow.
func TestReadSupported(t *testing.T) {
	prim := func(name string, rep parquet.Repetition, phys parquet.Type, lt schema.LogicalType, length int) *schema.Column {
		node, err := schema.NewPrimitiveNodeLogical(name, rep, lt, phys, length, -1)
		if err != nil {
			t.Fatal(err)
		}
		root, err := schema.NewGroupNode("schema", parquet.Repetitions.Required, schema.FieldList{node}, -1)
		if err != nil {
			t.Fatal(err)
		}
		return schema.NewSchema(root).Column(0)
	}
	opt, req, rep := parquet.Repetitions.Optional, parquet.Repetitions.Required, parquet.Repetitions.Repeated
	plain := []parquet.Encoding{parquet.Encodings.Plain, parquet.Encodings.RLE}
	for _, tc := range []struct {
		name string
		col  *schema.Column
		dt   arrow.DataType
		encs []parquet.Encoding
		want bool
	}{
		{"int64", prim("a", opt, parquet.Types.Int64, nil, -1), arrow.PrimitiveTypes.Int64, plain, true},
		{"string dict", prim("a", req, parquet.Types.ByteArray, schema.StringLogicalType{}, -1), arrow.BinaryTypes.String,
			[]parquet.Encoding{parquet.Encodings.PlainDict, parquet.Encodings.Plain, parquet.Encodings.RLE}, true},
		{"bit-packed levels", prim("a", opt, parquet.Types.Int64, nil, -1), arrow.PrimitiveTypes.Int64,
			[]parquet.Encoding{parquet.Encodings.Plain, parquet.Encodings.BitPacked}, false},
		{"repeated", prim("a", rep, parquet.Types.Int64, nil, -1), arrow.PrimitiveTypes.Int64, plain, false},
		{"int96", prim("a", opt, parquet.Types.Int96, nil, -1), &arrow.TimestampType{Unit: arrow.Nanosecond}, plain, false},
		{"decimal", prim("a", opt, parquet.Types.Int64, schema.NewDecimalLogicalType(10, 2), -1), &arrow.Decimal128Type{Precision: 10, Scale: 2}, plain, false},
		{"flba", prim("a", opt, parquet.Types.FixedLenByteArray, nil, 16), &arrow.FixedSizeBinaryType{ByteWidth: 16}, plain, false},
		{"timestamp seconds", prim("a", opt, parquet.Types.Int64, nil, -1), &arrow.TimestampType{Unit: arrow.Second}, plain, false},
		{"int32 as int64", prim("a", opt, parquet.Types.Int32, nil, -1), arrow.PrimitiveTypes.Int64, plain, false},
		{"bool dictionary", prim("a", opt, parquet.Types.Boolean, nil, -1), arrow.FixedWidthTypes.Boolean, []parquet.Encoding{parquet.Encodings.RLEDict}, false},
		{"float delta", prim("a", opt, parquet.Types.Float, nil, -1), arrow.PrimitiveTypes.Float32, []parquet.Encoding{parquet.Encodings.DeltaBinaryPacked}, false},
	} {
		if got := ReadSupported(tc.col, tc.dt, tc.encs); got != tc.want {
			t.Errorf("%s: ReadSupported %v, want %v", tc.name, got, tc.want)
		}
	}
	// nested: a leaf under a group
	leaf, _ := schema.NewPrimitiveNode("x", opt, parquet.Types.Int64, -1, -1)
	group, _ := schema.NewGroupNode("g", opt, schema.FieldList{leaf}, -1)
	root, _ := schema.NewGroupNode("schema", req, schema.FieldList{group}, -1)
	if ReadSupported(schema.NewSchema(root).Column(0), arrow.PrimitiveTypes.Int64, plain) {
		t.Error("a leaf in a struct (max definition level 2) is supported")
	}
}
