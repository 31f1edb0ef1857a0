package partstats_test

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/iceberg-go"

	"github.com/s3load/s3load/internal/partstats"
	"github.com/s3load/s3load/messages"
)

// rowGroupRows is small so every case spans several row groups.
const rowGroupRows = 3

func fid(id int) arrow.Metadata {
	return arrow.NewMetadata([]string{"PARQUET:field_id"}, []string{strconv.Itoa(id)})
}

func field(name string, dt arrow.DataType, id int) arrow.Field {
	return arrow.Field{Name: name, Type: dt, Nullable: true, Metadata: fid(id)}
}

// partCase is one column under test, written with field ID 1 (nested
// fields 2 and on) beside a column without a field ID.
type partCase struct {
	name  string
	field arrow.Field
	json  string
	props []parquet.WriterProperty
	// want gives the expected stats from the column's data; nil means one
	// leaf with bounds, computed by leafWant.
	want func(t *testing.T, col arrow.Array) []messages.ColumnStats
}

func TestFromFooter(t *testing.T) {
	long := func(prefix string, n int) string { return prefix + strings.Repeat("x", n) }
	b64 := func(s string) string { return strconv.Quote(base64.StdEncoding.EncodeToString([]byte(s))) }
	noBounds := func(t *testing.T, col arrow.Array) []messages.ColumnStats {
		return []messages.ColumnStats{leafWant(t, 1, col, nil, false)}
	}
	cases := []partCase{
		{name: "int8", field: field("c", arrow.PrimitiveTypes.Int8, 1), json: `[1, -5, null, 127, -128, 3, 0]`},
		{name: "int16", field: field("c", arrow.PrimitiveTypes.Int16, 1), json: `[100, null, -32768, 32767, 7, null, 8]`},
		{name: "int32", field: field("c", arrow.PrimitiveTypes.Int32, 1), json: `[5, 4, 3, -2147483648, null, 2147483647, 0]`},
		{name: "int64", field: field("c", arrow.PrimitiveTypes.Int64, 1), json: `[null, 9223372036854775807, -1, -9223372036854775808, 42, 1, 2]`},
		{name: "uint32 has no bounds", field: field("c", arrow.PrimitiveTypes.Uint32, 1), json: `[1, 4294967295, null, 3]`, want: noBounds},
		{name: "float32 NaN and zeros", field: field("c", arrow.PrimitiveTypes.Float32, 1), json: `[1.5, "NaN", -0.0, null, 0.0, -2.25, 3, "Inf"]`},
		{name: "float32 zeros only", field: field("c", arrow.PrimitiveTypes.Float32, 1), json: `[0.0, 0.0, null, -0.0, 0.0, -0.0]`},
		{name: "float64 NaN and zeros", field: field("c", arrow.PrimitiveTypes.Float64, 1), json: `[-0.0, "NaN", 2.5e300, null, 0.0, "-Inf", 1]`},
		{name: "float64 zeros only", field: field("c", arrow.PrimitiveTypes.Float64, 1), json: `[-0.0, -0.0, null, -0.0]`},
		{name: "float64 NaN-only row group drops bounds", field: field("c", arrow.PrimitiveTypes.Float64, 1),
			json: `["NaN", "NaN", "NaN", 1, 2, 3]`, want: noBounds},
		{name: "bool", field: field("c", arrow.FixedWidthTypes.Boolean, 1), json: `[true, null, false, true, true, true, true]`},
		{name: "bool all true", field: field("c", arrow.FixedWidthTypes.Boolean, 1), json: `[true, true, true, null, true]`},
		{name: "string short", field: field("c", arrow.BinaryTypes.String, 1), json: `["b", "a", null, "zz", "ab", "héllo", "a"]`},
		{name: "string empty is the least", field: field("c", arrow.BinaryTypes.String, 1), json: `["b", "", null, "zz"]`},
		{name: "string long", field: field("c", arrow.BinaryTypes.String, 1),
			json: fmt.Sprintf(`[%q, %q, null, %q, "c"]`, long("bbbb", 100), long("aaaaaaaaaaaaaaa", 70), long("d", 65))},
		{name: "string non-ASCII", field: field("c", arrow.BinaryTypes.String, 1),
			json: `["日本語のテキストはとても長いです。ほんとうに長い", "ü", null, "€uro and more than sixteen", "😀 emoji first, then text", "日本語のテキストはとても長いですね"]`},
		{name: "string too long for writer stats", field: field("c", arrow.BinaryTypes.String, 1),
			json: fmt.Sprintf(`["a", "b", "c", %q, "e"]`, long("d", 5000)), want: noBounds},
		{name: "binary", field: field("c", arrow.BinaryTypes.Binary, 1),
			json: fmt.Sprintf(`[%s, %s, null, %s, %s]`, b64("\x00\x01"), b64("\x7f"), b64("\x80\x00"), b64(long("\x01", 40)))},
		{name: "fixed_size_binary", field: field("c", &arrow.FixedSizeBinaryType{ByteWidth: 3}, 1),
			json: fmt.Sprintf(`[%s, %s, null, %s, %s]`, b64("abc"), b64("\xff\x00\x01"), b64("\x00\x00\x00"), b64("zzz"))},
		{name: "date32", field: field("c", arrow.FixedWidthTypes.Date32, 1), json: `[19000, -1, null, 20000, 0, -719162]`},
		{name: "time64 us", field: field("c", arrow.FixedWidthTypes.Time64us, 1), json: `[86399999999, 0, null, 1000]`},
		{name: "time32 ms has no bounds", field: field("c", arrow.FixedWidthTypes.Time32ms, 1), json: `[1000, 0, null, 5]`, want: noBounds},
		{name: "timestamp us", field: field("c", &arrow.TimestampType{Unit: arrow.Microsecond}, 1),
			json: `[1700000000000001, -1, null, 0, 1700000000000000, 253402300799999999]`},
		{name: "timestamp us tz", field: field("c", &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, 1),
			json: `[1700000000000001, -86400000000, null, 5, 6, 7]`},
		{name: "timestamp ms has no bounds", field: field("c", &arrow.TimestampType{Unit: arrow.Millisecond}, 1),
			json: `[1700000000001, 2, null, 3]`, want: noBounds},
		{name: "decimal(9,2)", field: field("c", &arrow.Decimal128Type{Precision: 9, Scale: 2}, 1),
			json: `["1.23", "-9999999.99", null, "0.00", "9999999.99", "-0.01", "-1.28"]`},
		{name: "decimal(18,4)", field: field("c", &arrow.Decimal128Type{Precision: 18, Scale: 4}, 1),
			json: `["-12345678901234.5678", "1.0000", null, "99999999999999.9999", "-0.0128"]`},
		{name: "decimal(38,10)", field: field("c", &arrow.Decimal128Type{Precision: 38, Scale: 10}, 1),
			json: `["-9999999999999999999999999999.9999999999", "0.0000000001", null, "1234567890123456789.0123456789", "-0.0000000128", "0"]`},
		{name: "decimal(9,2) as int32", field: field("c", &arrow.Decimal128Type{Precision: 9, Scale: 2}, 1),
			json: `["1.23", "-9999999.99", null, "0.00", "9999999.99", "-1.28"]`, props: []parquet.WriterProperty{parquet.WithStoreDecimalAsInteger(true)}},
		{name: "decimal(18,4) as int64", field: field("c", &arrow.Decimal128Type{Precision: 18, Scale: 4}, 1),
			json: `["-12345678901234.5678", "1.0000", null, "99999999999999.9999", "-3.2768"]`, props: []parquet.WriterProperty{parquet.WithStoreDecimalAsInteger(true)}},
		{name: "decimal256(40,2) is wider than Iceberg's", field: field("c", &arrow.Decimal256Type{Precision: 40, Scale: 2}, 1),
			json: `["1.23", "-4.56", null, "7.89"]`, want: noBounds},
		{name: "all null", field: field("c", arrow.PrimitiveTypes.Int32, 1), json: `[null, null, null, null, null]`},
		{
			name: "struct",
			field: field("s", arrow.StructOf(
				field("a", arrow.PrimitiveTypes.Int32, 2),
				field("b", arrow.BinaryTypes.String, 3),
				arrow.Field{Name: "noid", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
			), 1),
			json: `[{"a": 1, "b": "x", "noid": 1}, null, {"a": null, "b": "y", "noid": 2}, {"a": -7, "b": null, "noid": 3},
				{"a": 100, "b": "a", "noid": 4}, null, {"a": 5, "b": "zz", "noid": 5}]`,
			want: func(t *testing.T, col arrow.Array) []messages.ColumnStats {
				st := col.(*array.Struct)
				return []messages.ColumnStats{
					leafWant(t, 2, st.Field(0), st.IsNull, true),
					leafWant(t, 3, st.Field(1), st.IsNull, true),
				}
			},
		},
		{
			name:  "list<int64>",
			field: field("l", arrow.ListOfField(field("element", arrow.PrimitiveTypes.Int64, 2)), 1),
			json:  `[[1, 2, 3], null, [], [null, 5], [6], [7, 8, 9, 10], [null]]`,
			want: func(t *testing.T, col arrow.Array) []messages.ColumnStats {
				return []messages.ColumnStats{repeatedWant(2, col.(array.ListLike), col.(array.ListLike).ListValues())}
			},
		},
		{
			name:  "map<string,int64>",
			field: field("m", arrow.MapOfWithMetadata(arrow.BinaryTypes.String, fid(2), arrow.PrimitiveTypes.Int64, fid(3)), 1),
			json: `[[{"key": "a", "value": 1}, {"key": "b", "value": null}], null, [], [{"key": "c", "value": 3}],
				[{"key": "d", "value": 4}, {"key": "e", "value": 5}, {"key": "f", "value": 6}], [{"key": "g", "value": null}]]`,
			want: func(t *testing.T, col arrow.Array) []messages.ColumnStats {
				m := col.(*array.Map)
				return []messages.ColumnStats{repeatedWant(2, m, m.Keys()), repeatedWant(3, m, m.Items())}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)

			col, _, err := array.FromJSON(mem, tc.field.Type, strings.NewReader(tc.json))
			if err != nil {
				t.Fatalf("building column: %v", err)
			}
			defer col.Release()
			md, data := writePart(t, mem, tc.field, col, tc.props)
			if md.NumRowGroups() < 2 {
				t.Fatalf("%d row groups, want several", md.NumRowGroups())
			}

			got, err := partstats.FromFooter(md, int64(len(data)))
			if err != nil {
				t.Fatalf("FromFooter: %v", err)
			}
			back, err := partstats.FromFile(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatalf("FromFile: %v", err)
			}
			if !reflect.DeepEqual(got, back) {
				t.Errorf("writer's footer and footer read back differ:\n%s\n%s", show(got.Columns), show(back.Columns))
			}
			if got.Rows != int64(col.Len()) || got.Size != int64(len(data)) {
				t.Errorf("rows %d size %d, want %d %d", got.Rows, got.Size, col.Len(), len(data))
			}

			want := tc.want
			if want == nil {
				want = func(t *testing.T, col arrow.Array) []messages.ColumnStats {
					return []messages.ColumnStats{leafWant(t, 1, col, nil, true)}
				}
			}
			wantCols := want(t, col)
			for i := range got.Columns {
				if got.Columns[i].Size <= 0 {
					t.Errorf("field %d: size %d", got.Columns[i].FieldID, got.Columns[i].Size)
				}
				got.Columns[i].Size = 0
			}
			if !reflect.DeepEqual(got.Columns, wantCols) {
				t.Errorf("columns\n got %s\nwant %s", show(got.Columns), show(wantCols))
			}
			checkIcebergReads(t, tc.field, got.Columns)
		})
	}
}

// writePart writes col as field beside a column without a field ID with
// pqarrow, returning the writer's footer and the file.
func writePart(t *testing.T, mem memory.Allocator, f arrow.Field, col arrow.Array, props []parquet.WriterProperty) (*metadata.FileMetaData, []byte) {
	t.Helper()
	nb := array.NewInt32Builder(mem)
	defer nb.Release()
	for i := range col.Len() {
		nb.Append(int32(i))
	}
	noid := nb.NewArray()
	defer noid.Release()

	sc := arrow.NewSchema([]arrow.Field{f, {Name: "noid", Type: arrow.PrimitiveTypes.Int32, Nullable: true}}, nil)
	rec := array.NewRecordBatch(sc, []arrow.Array{col, noid}, int64(col.Len()))
	defer rec.Release()

	var buf bytes.Buffer
	wp := parquet.NewWriterProperties(append([]parquet.WriterProperty{
		parquet.WithAllocator(mem), parquet.WithMaxRowGroupLength(rowGroupRows),
	}, props...)...)
	fw, err := pqarrow.NewFileWriter(sc, &buf, wp, pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(mem)))
	if err != nil {
		t.Fatalf("opening writer: %v", err)
	}
	if err := fw.Write(rec); err != nil {
		t.Fatalf("writing: %v", err)
	}
	if err := fw.Close(); err != nil {
		t.Fatalf("closing writer: %v", err)
	}
	md, err := fw.FileMetadata()
	if err != nil {
		t.Fatalf("footer: %v", err)
	}
	return md, buf.Bytes()
}

// leafWant computes a non-repeated leaf's stats from its data; parentNull,
// if given, says which rows an enclosing struct makes null.
func leafWant(t *testing.T, id int, arr arrow.Array, parentNull func(int) bool, bounds bool) messages.ColumnStats {
	t.Helper()
	cs := messages.ColumnStats{FieldID: id}
	var lo, hi iceberg.Literal
	for i := range arr.Len() {
		cs.Values++
		if (parentNull != nil && parentNull(i)) || arr.IsNull(i) {
			cs.Nulls++
			continue
		}
		v := literalAt(t, arr, i)
		if v == nil { // NaN: outside Iceberg's bounds
			continue
		}
		if lo == nil || less(v, lo) {
			lo = v
		}
		if hi == nil || less(hi, v) {
			hi = v
		}
	}
	if bounds && lo != nil {
		cs.Lower = marshal(t, lowerOf(lo))
		cs.Upper = marshal(t, upperOf(hi))
	}
	return cs
}

// repeatedWant computes the counts of a leaf inside a list or map: a row
// whose list is null or empty still holds one (null) level, and bounds are
// not given.
func repeatedWant(id int, list array.ListLike, leaf arrow.Array) messages.ColumnStats {
	cs := messages.ColumnStats{FieldID: id}
	for i := range list.Len() {
		start, end := list.ValueOffsets(i)
		if list.IsNull(i) || start == end {
			cs.Values++
			cs.Nulls++
			continue
		}
		for j := start; j < end; j++ {
			cs.Values++
			if leaf.IsNull(int(j)) {
				cs.Nulls++
			}
		}
	}
	return cs
}

func literalAt(t *testing.T, arr arrow.Array, i int) iceberg.Literal {
	t.Helper()
	switch a := arr.(type) {
	case *array.Int8:
		return iceberg.Int32Literal(a.Value(i))
	case *array.Int16:
		return iceberg.Int32Literal(a.Value(i))
	case *array.Int32:
		return iceberg.Int32Literal(a.Value(i))
	case *array.Int64:
		return iceberg.Int64Literal(a.Value(i))
	case *array.Uint32:
		return iceberg.Int64Literal(a.Value(i))
	case *array.Float32:
		if math.IsNaN(float64(a.Value(i))) {
			return nil
		}
		return iceberg.Float32Literal(a.Value(i))
	case *array.Float64:
		if math.IsNaN(a.Value(i)) {
			return nil
		}
		return iceberg.Float64Literal(a.Value(i))
	case *array.Boolean:
		return iceberg.BoolLiteral(a.Value(i))
	case *array.String:
		return iceberg.StringLiteral(a.Value(i))
	case *array.Binary:
		return iceberg.BinaryLiteral(bytes.Clone(a.Value(i)))
	case *array.FixedSizeBinary:
		return iceberg.FixedLiteral(bytes.Clone(a.Value(i)))
	case *array.Decimal256:
		return iceberg.Int32Literal(0) // counts only: never a bound
	case *array.Date32:
		return iceberg.DateLiteral(a.Value(i))
	case *array.Time64:
		return iceberg.TimeLiteral(a.Value(i))
	case *array.Time32:
		return iceberg.Int32Literal(a.Value(i))
	case *array.Timestamp:
		return iceberg.TimestampLiteral(a.Value(i))
	case *array.Decimal128:
		return iceberg.DecimalLiteral{Val: a.Value(i), Scale: int(a.DataType().(*arrow.Decimal128Type).Scale)}
	}
	t.Fatalf("no literal for %T", arr)
	return nil
}

func lessOrdered[T cmp.Ordered](a T, b iceberg.Literal) bool { return a < b.(T) }

func less(a, b iceberg.Literal) bool {
	switch a := a.(type) {
	case iceberg.Int32Literal:
		return lessOrdered(a, b)
	case iceberg.Int64Literal:
		return lessOrdered(a, b)
	case iceberg.Float32Literal:
		return lessOrdered(a, b)
	case iceberg.Float64Literal:
		return lessOrdered(a, b)
	case iceberg.DateLiteral:
		return lessOrdered(a, b)
	case iceberg.TimeLiteral:
		return lessOrdered(a, b)
	case iceberg.TimestampLiteral:
		return lessOrdered(a, b)
	case iceberg.StringLiteral:
		return lessOrdered(a, b)
	case iceberg.BoolLiteral:
		return !bool(a) && bool(b.(iceberg.BoolLiteral))
	case iceberg.BinaryLiteral:
		return bytes.Compare(a, b.(iceberg.BinaryLiteral)) < 0
	case iceberg.FixedLiteral:
		return bytes.Compare(a, b.(iceberg.FixedLiteral)) < 0
	case iceberg.DecimalLiteral:
		return a.Val.Less(b.(iceberg.DecimalLiteral).Val)
	}
	panic(fmt.Sprintf("no order for %T", a))
}

// lowerOf and upperOf are the bounds Iceberg's default metrics mode gives:
// zeros signed outward, strings cut to 16 code points and binary to 16
// bytes, the upper one's last then incremented (the test data never needs
// a carry).
func lowerOf(l iceberg.Literal) iceberg.Literal {
	switch v := l.(type) {
	case iceberg.Float32Literal:
		if v == 0 {
			return iceberg.Float32Literal(math.Copysign(0, -1))
		}
	case iceberg.Float64Literal:
		if v == 0 {
			return iceberg.Float64Literal(math.Copysign(0, -1))
		}
	case iceberg.StringLiteral:
		if r := []rune(string(v)); len(r) > 16 {
			return iceberg.StringLiteral(string(r[:16]))
		}
	case iceberg.BinaryLiteral:
		if len(v) > 16 {
			return v[:16]
		}
	}
	return l
}

func upperOf(l iceberg.Literal) iceberg.Literal {
	switch v := l.(type) {
	case iceberg.Float32Literal:
		if v == 0 {
			return iceberg.Float32Literal(0)
		}
	case iceberg.Float64Literal:
		if v == 0 {
			return iceberg.Float64Literal(0)
		}
	case iceberg.StringLiteral:
		if r := []rune(string(v)); len(r) > 16 {
			r = r[:16]
			r[15]++
			return iceberg.StringLiteral(string(r))
		}
	case iceberg.BinaryLiteral:
		if len(v) > 16 {
			b := bytes.Clone(v[:16])
			b[15]++
			return iceberg.BinaryLiteral(b)
		}
	}
	return l
}

func marshal(t *testing.T, l iceberg.Literal) []byte {
	t.Helper()
	b, err := l.MarshalBinary()
	if err != nil {
		t.Fatalf("marshalling %v: %v", l, err)
	}
	return b
}

// checkIcebergReads decodes every bound with iceberg-go as the column's
// Iceberg type would be, so the bytes are ones a reader takes.
func checkIcebergReads(t *testing.T, f arrow.Field, cols []messages.ColumnStats) {
	t.Helper()
	types := map[int]iceberg.Type{}
	var walk func(f arrow.Field)
	walk = func(f arrow.Field) {
		if id, ok := f.Metadata.GetValue("PARQUET:field_id"); ok {
			n, _ := strconv.Atoi(id)
			if typ, ok := icebergType(f.Type); ok {
				types[n] = typ
			}
		}
		if st, ok := f.Type.(*arrow.StructType); ok {
			for _, c := range st.Fields() {
				walk(c)
			}
		}
	}
	walk(f)
	for _, c := range cols {
		for _, b := range [][]byte{c.Lower, c.Upper} {
			if b == nil {
				continue
			}
			typ, ok := types[c.FieldID]
			if !ok {
				t.Errorf("field %d: bounds for a type with none", c.FieldID)
				continue
			}
			if _, err := iceberg.LiteralFromBytes(typ, b); err != nil {
				t.Errorf("field %d: iceberg-go reads %x as %s: %v", c.FieldID, b, typ, err)
			}
		}
	}
}

func icebergType(dt arrow.DataType) (iceberg.Type, bool) {
	switch dt := dt.(type) {
	case *arrow.Int8Type, *arrow.Int16Type, *arrow.Int32Type:
		return iceberg.PrimitiveTypes.Int32, true
	case *arrow.Int64Type:
		return iceberg.PrimitiveTypes.Int64, true
	case *arrow.Float32Type:
		return iceberg.PrimitiveTypes.Float32, true
	case *arrow.Float64Type:
		return iceberg.PrimitiveTypes.Float64, true
	case *arrow.BooleanType:
		return iceberg.PrimitiveTypes.Bool, true
	case *arrow.StringType:
		return iceberg.PrimitiveTypes.String, true
	case *arrow.BinaryType:
		return iceberg.PrimitiveTypes.Binary, true
	case *arrow.FixedSizeBinaryType:
		return iceberg.FixedTypeOf(dt.ByteWidth), true
	case *arrow.Date32Type:
		return iceberg.PrimitiveTypes.Date, true
	case *arrow.Time64Type:
		return iceberg.PrimitiveTypes.Time, true
	case *arrow.TimestampType:
		if dt.TimeZone != "" {
			return iceberg.PrimitiveTypes.TimestampTz, true
		}
		return iceberg.PrimitiveTypes.Timestamp, true
	case *arrow.Decimal128Type:
		return iceberg.DecimalTypeOf(int(dt.Precision), int(dt.Scale)), true
	}
	return nil, false
}

func show(cols []messages.ColumnStats) string {
	var b strings.Builder
	for _, c := range cols {
		fmt.Fprintf(&b, "\n  {id %d size %d values %d nulls %d lower %x upper %x}", c.FieldID, c.Size, c.Values, c.Nulls, c.Lower, c.Upper)
	}
	return b.String()
}
