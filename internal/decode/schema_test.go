package decode

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/s3load/s3load/messages"
)

func TestSchemaRoundTrip(t *testing.T) {
	md := arrow.NewMetadata([]string{"k"}, []string{"v"})
	s := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true, Metadata: md},
		{Name: "amount", Type: &arrow.Decimal128Type{Precision: 12, Scale: 3}, Nullable: true},
		{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
		{Name: "attrs", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Float64), Nullable: true},
		{Name: "point", Type: arrow.StructOf(
			arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Float32},
			arrow.Field{Name: "ys", Type: arrow.LargeListOf(arrow.PrimitiveTypes.Int8), Nullable: true},
		), Nullable: true},
		{Name: "dict", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}, Nullable: true},
	}, &md)
	b, err := EncodeSchema(s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeSchema(b)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(s) || !got.Metadata().Equal(s.Metadata()) || !got.Field(1).Metadata.Equal(md) {
		t.Errorf("round trip\n got %v\nwant %v", got, s)
	}
	for _, bad := range [][]byte{nil, []byte("garbage"), b[:len(b)/2], append([]byte{0xff, 0xff, 0xff, 0xff, 0x10, 0, 0, 0}, make([]byte, 16)...)} {
		if _, err := DecodeSchema(bad); err == nil {
			t.Errorf("DecodeSchema(%q) did not fail", bad)
		}
	}
	if _, err := EncodeSchema(nil); err == nil {
		t.Error("EncodeSchema(nil) did not fail")
	}
}

func TestFields(t *testing.T) {
	s := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
		{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
	}, nil)
	got := Fields(s)
	want := []messages.Field{
		{Name: "id", Type: "int64"},
		{Name: "at", Type: "timestamp[us, tz=UTC]", Nullable: true},
		{Name: "tags", Type: "list<item: utf8, nullable>", Nullable: true},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("field %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestParseType(t *testing.T) {
	good := map[string]string{
		"int8": "int8", "int16": "int16", "int32": "int32", "int64": "int64",
		"uint8": "uint8", "uint16": "uint16", "uint32": "uint32", "uint64": "uint64",
		"float32": "float32", "float64": "float64", "double": "float64",
		"bool": "bool", "boolean": "bool", "string": "utf8", "utf8": "utf8", "STRING": "utf8",
		"binary": "binary", "date32": "date32",
		"timestamp[s]": "timestamp[s]", "timestamp[ms]": "timestamp[ms]",
		"timestamp[us]": "timestamp[us]", "timestamp[ns]": "timestamp[ns]",
		"timestamp[us, tz=UTC]": "timestamp[us, tz=UTC]", "timestamp[ms,tz=Europe/Paris]": "timestamp[ms, tz=Europe/Paris]",
		"decimal128(10,2)": "decimal(10, 2)", "decimal128( 38 , 0 )": "decimal(38, 0)", "decimal(5, 5)": "decimal(5, 5)",
	}
	for in, want := range good {
		dt, err := ParseType(in)
		if err != nil {
			t.Errorf("ParseType(%q): %v", in, err)
			continue
		}
		if dt.String() != want {
			t.Errorf("ParseType(%q) = %s, want %s", in, dt, want)
		}
		// What Fields shows parses back to the same type.
		again, err := ParseType(dt.String())
		if err != nil || !arrow.TypeEqual(again, dt) {
			t.Errorf("ParseType(%q) = %v, %v", dt.String(), again, err)
		}
	}
	for _, in := range []string{"", "int", "varchar", "timestamp[h]", "timestamp[us, UTC]", "timestamp[us, tz=]", "decimal128(0,0)", "decimal128(39,2)", "decimal128(5,6)", "decimal128(a,b)", "list<nosuch>", "array<int64>"} {
		_, err := ParseType(in)
		if err == nil {
			t.Errorf("ParseType(%q) did not fail", in)
			continue
		}
		if !strings.Contains(err.Error(), "\""+in+"\"") {
			t.Errorf("error %q does not name %q", err, in)
		}
	}
}

func TestSchemaFromFields(t *testing.T) {
	fs := []messages.Field{{Name: "id", Type: "int64"}, {Name: "at", Type: "timestamp[us, tz=UTC]", Nullable: true}, {Name: "d", Type: "decimal128(9,2)", Nullable: true}}
	s, err := SchemaFromFields(fs)
	if err != nil {
		t.Fatal(err)
	}
	back := Fields(s)
	for i := range fs {
		if back[i].Name != fs[i].Name || back[i].Nullable != fs[i].Nullable {
			t.Errorf("field %d: %+v", i, back[i])
		}
	}
	if s2, err := SchemaFromFields(back); err != nil || !s2.Equal(s) {
		t.Errorf("Fields → SchemaFromFields: %v %v", s2, err)
	}
	for _, bad := range [][]messages.Field{
		nil,
		{{Name: "", Type: "int64"}},
		{{Name: "a", Type: "int64"}, {Name: "a", Type: "utf8"}},
		{{Name: "a", Type: "money"}},
	} {
		if _, err := SchemaFromFields(bad); err == nil {
			t.Errorf("SchemaFromFields(%v) did not fail", bad)
		}
	}
	_, err = SchemaFromFields([]messages.Field{{Name: "price", Type: "money"}})
	if !strings.Contains(err.Error(), `"price"`) || !strings.Contains(err.Error(), `"money"`) {
		t.Errorf("error %q names neither field nor type", err)
	}
}

func TestSkipReason(t *testing.T) {
	tests := []struct {
		key  string
		size int64
		skip bool
	}{
		{"data/part-0001.csv", 10, false},
		{"data/part-0001.csv.gz", 10, false},
		{"data/", 0, true},
		{"data/sub/", 5, true},
		{"data/empty.csv", 0, true},
		{"data/_SUCCESS", 0, true},
		{"data/_SUCCESS", 12, true},
		{"data/_started_1234", 3, true},
		{"data/_committed_1234", 3, true},
		{"data/_metadata", 30, true},
		{"data/.part-0001.csv.crc", 12, true},
		{"data/part-0001.csv.crc", 12, true},
		{"data/.DS_Store", 6000, true},
		{"data/_temporary/0/part-0001.csv", 10, true},
		{"data/x_$folder$", 0, true},
		{"my_data/x.csv", 10, false},
		{"data/.hidden/x.csv", 10, false}, // only the base name and known folders count
	}
	for _, tc := range tests {
		got := SkipReason(tc.key, tc.size)
		if (got != "") != tc.skip {
			t.Errorf("SkipReason(%q, %d) = %q, want skip=%v", tc.key, tc.size, got, tc.skip)
		}
	}
}

func TestErrorText(t *testing.T) {
	de := &DataError{File: "s3://b/k", Line: 17, RowGroup: -1, Column: "amount", Err: errSyntax}
	if got := de.Error(); got != `s3://b/k: line 17, column "amount": invalid syntax` {
		t.Errorf("got %q", got)
	}
	de = &DataError{File: "s3://b/k", RowGroup: 2, Err: errSyntax}
	if got := de.Error(); got != `s3://b/k: row group 2: invalid syntax` {
		t.Errorf("got %q", got)
	}
	if !IsPermanent(de) || IsPermanent(errNetwork) || IsPermanent(nil) {
		t.Error("IsPermanent")
	}
	se := &SchemaError{File: "s3://b/k", Diffs: []ColumnDiff{{"amount", "int64", "utf8"}, {"extra", absent, "int64"}}}
	want := `s3://b/k: schema differs from the table: column "amount": expected int64, found utf8; column "extra": expected (absent), found int64`
	if se.Error() != want {
		t.Errorf("got %q", se.Error())
	}
}
