package decode

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestConformArray converts arrays (given as JSON) to the types widening
// gives, and refuses what would lose data.
func TestConformArray(t *testing.T) {
	pt := arrow.PrimitiveTypes
	ts := func(u arrow.TimeUnit, tz string) arrow.DataType { return &arrow.TimestampType{Unit: u, TimeZone: tz} }
	fld := func(n string, t arrow.DataType) arrow.Field { return arrow.Field{Name: n, Type: t, Nullable: true} }
	cases := []struct {
		name    string
		from    arrow.DataType
		in      string
		to      arrow.DataType
		want    string // the result as JSON
		wantErr string
	}{
		{"int32 to int64", pt.Int32, `[1, null, -3]`, pt.Int64, `[1,null,-3]`, ""},
		{"int32 to float64", pt.Int32, `[1, null, 2147483647]`, pt.Float64, `[1,null,2147483647]`, ""},
		{"int32 to string", pt.Int32, `[1, null, -3]`, arrow.BinaryTypes.String, `["1",null,"-3"]`, ""},
		{"float to string", pt.Float64, `[1.5, 2]`, arrow.BinaryTypes.String, `["1.5","2"]`, ""},
		{"bool to string", arrow.FixedWidthTypes.Boolean, `[true, null]`, arrow.BinaryTypes.String, `["true",null]`, ""},
		{"date to string", arrow.FixedWidthTypes.Date32, `["2024-03-04"]`, arrow.BinaryTypes.String, `["2024-03-04"]`, ""},
		{"uint64 to decimal", pt.Uint64, `[18446744073709551615, 0]`, &arrow.Decimal128Type{Precision: 20, Scale: 0}, `["18446744073709551615","0"]`, ""},
		{"int64 to decimal", pt.Int64, `[12, -5]`, &arrow.Decimal128Type{Precision: 23, Scale: 4}, `["12","-5"]`, ""},
		{"date32 to timestamp", arrow.FixedWidthTypes.Date32, `["1970-01-02", null]`, ts(arrow.Microsecond, ""), `["1970-01-02T00:00:00",null]`, ""},
		{"ms to us", ts(arrow.Millisecond, ""), `["2024-01-02T03:04:05.006"]`, ts(arrow.Microsecond, ""), `["2024-01-02T03:04:05.006"]`, ""},
		{"naive to zoned", ts(arrow.Microsecond, ""), `["2024-01-02T03:04:05"]`, ts(arrow.Microsecond, "UTC"), `["2024-01-02T03:04:05Z"]`, ""},
		{"null to int", arrow.Null, `[null, null]`, pt.Int64, `[null,null]`, ""},
		{"list elements", arrow.ListOf(pt.Int32), `[[1, 2], null, []]`, arrow.ListOf(pt.Float64), `[[1,2],null,[]]`, ""},
		{"struct gains a field", arrow.StructOf(fld("a", pt.Int32)), `[{"a": 1}, null]`,
			arrow.StructOf(fld("a", pt.Int64), fld("b", arrow.BinaryTypes.String)), `[{"a":1,"b":null},null]`, ""},
		{"float to int loses", pt.Float64, `[1.5]`, pt.Int64, "", "truncated"},
		{"int64 overflows int8", pt.Int64, `[300]`, pt.Int8, "", "not in range"},
		{"struct to string", arrow.StructOf(fld("a", pt.Int32)), `[{"a": 1}]`, arrow.BinaryTypes.String, "", "cannot become"},
		{"struct lacks a required field", arrow.StructOf(fld("a", pt.Int32)), `[{"a": 1}]`,
			arrow.StructOf(fld("a", pt.Int32), arrow.Field{Name: "b", Type: pt.Int32}), "", `"b" is missing`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			in, _, err := array.FromJSON(mem, c.from, strings.NewReader(c.in))
			if err != nil {
				t.Fatal(err)
			}
			defer in.Release()
			got, err := ConformArray(compute.WithAllocator(context.Background(), mem), in, c.to)
			if c.wantErr != "" {
				if got != nil {
					got.Release()
				}
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer got.Release()
			if !arrow.TypeEqual(got.DataType(), c.to) {
				t.Errorf("type %s, want %s", got.DataType(), c.to)
			}
			js, err := got.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.ReplaceAll(string(js), "\n", ""); got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}

// TestDecodeIntoMergedSchema decodes files into a table schema merged from
// several files: columns in another order, of wider types, missing or
// extra as the column policy allows.
func TestDecodeIntoMergedSchema(t *testing.T) {
	pqObj := func(t *testing.T) *memObject {
		mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
		defer mem.AssertSize(t, 0)
		sc := arrow.NewSchema([]arrow.Field{
			{Name: "n", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
			{Name: "d", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
			{Name: "x", Type: arrow.BinaryTypes.String, Nullable: true},
		}, nil)
		rec, _, err := array.RecordFromJSON(mem, sc, strings.NewReader(`[{"n": 1, "d": "2024-01-02", "x": "a"}, {"n": null, "d": null, "x": "b"}, {"n": -7, "d": "1970-01-01", "x": null}]`))
		if err != nil {
			t.Fatal(err)
		}
		defer rec.Release()
		return &memObject{name: "s3://b/k.parquet", data: writeParquet(t, rec)}
	}
	csv := func(text string) *memObject { return csvObj("s3://b/k.csv", text) }
	header := CSVOptions{Header: true}
	cases := []struct {
		name    string
		obj     func(t *testing.T) *memObject
		opts    Options
		want    string // rows joined by ","
		wantErr string
	}{
		{"csv other order, wider types", func(*testing.T) *memObject { return csv("name,amount,d,id\nx,3,2024-01-02,1\ny,2.5,,2\n") },
			Options{CSV: header, Schema: schemaOf(t, "id", "int64", "amount", "float64", "name", "utf8", "d", "timestamp[us]")},
			"1|3|x|2024-01-02T00:00:00Z,2|2.5|y|null", ""},
		{"csv missing column as null", func(*testing.T) *memObject { return csv("c,a\nx,1\ny,2\nz,3\n") },
			Options{CSV: header, BatchRows: 2, Columns: ColumnPolicy{MissingAsNull: true}, Schema: schemaOf(t, "a", "int64", "b", "float64", "c", "utf8")},
			"1|null|x,2|null|y,3|null|z", ""},
		{"csv missing column refused", func(*testing.T) *memObject { return csv("c,a\nx,1\n") },
			Options{CSV: header, Schema: schemaOf(t, "a", "int64", "b", "float64", "c", "utf8")},
			"", `column "b": expected float64, found (absent)`},
		{"csv missing non-nullable column refused", func(*testing.T) *memObject { return csv("a\n1\n") },
			Options{CSV: header, Columns: ColumnPolicy{MissingAsNull: true}, Schema: arrowSchemaNonNull(schemaOf(t, "a", "int64", "b", "int64"))},
			"", `column "b": expected int64, found (absent)`},
		{"csv extra columns ignored", func(*testing.T) *memObject { return csv("x,b,y,a\n\xff,1,q,2\n,3,,4\n") },
			Options{CSV: header, Columns: ColumnPolicy{IgnoreExtra: true}, Schema: schemaOf(t, "a", "int64", "b", "int64")},
			"2|1,4|3", ""},
		{"csv extra columns refused", func(*testing.T) *memObject { return csv("b,y,a\n1,q,2\n") },
			Options{CSV: header, Schema: schemaOf(t, "a", "int64", "b", "int64")},
			"", `column "y": expected (absent), found utf8`},
		{"csv extra ignored and missing null", func(*testing.T) *memObject { return csv("y,a\nq,2\n") },
			Options{CSV: header, Columns: ColumnPolicy{IgnoreExtra: true, MissingAsNull: true}, Schema: schemaOf(t, "a", "int64", "b", "utf8")},
			"2|null", ""},
		{"parquet int32 into int64", pqObj, Options{Schema: schemaOf(t, "n", "int64", "d", "date32", "x", "utf8")},
			"1|2024-01-02|a,null|null|b,-7|1970-01-01|null", ""},
		{"parquet int32 into float64, date into timestamp", pqObj, Options{Schema: schemaOf(t, "x", "utf8", "n", "float64", "d", "timestamp[ms]")},
			"a|1|2024-01-02T00:00:00Z,b|null|null,null|-7|1970-01-01T00:00:00Z", ""},
		{"parquet int32 into string", pqObj, Options{Schema: schemaOf(t, "n", "utf8", "d", "date32", "x", "utf8")},
			"1|2024-01-02|a,null|null|b,-7|1970-01-01|null", ""},
		{"parquet int32 into decimal", pqObj, Options{Schema: schemaOf(t, "n", "decimal(12,2)", "d", "date32", "x", "utf8")},
			"1|2024-01-02|a,null|null|b,-7|1970-01-01|null", ""},
		{"parquet missing column as null, extra ignored", pqObj,
			Options{Columns: ColumnPolicy{MissingAsNull: true, IgnoreExtra: true}, Schema: schemaOf(t, "x", "utf8", "m", "bool")},
			"a|null,b|null,null|null", ""},
		{"parquet missing and extra refused", pqObj, Options{Schema: schemaOf(t, "x", "utf8", "n", "int32", "m", "bool")},
			"", `column "m": expected bool, found (absent); column "d": expected (absent), found date32`},
		{"parquet narrowing refused", pqObj, Options{Schema: schemaOf(t, "n", "int8", "d", "date32", "x", "utf8")},
			"", `column "n": expected int8, found int32`},
		{"json int into float, number into string, extra ignored", func(*testing.T) *memObject {
			return jsonObj(`{"f": 1, "s": 2, "z": {"q": 1}}` + "\n" + `{"f": 2.5, "s": "t", "z": 3}` + "\n")
		}, Options{Columns: ColumnPolicy{IgnoreExtra: true}, Schema: schemaOf(t, "f", "float64", "s", "utf8")},
			"1|2,2.5|t", ""},
		{"json extra refused", func(*testing.T) *memObject { return jsonObj(`{"f": 1, "z": 2}`) },
			Options{Schema: schemaOf(t, "f", "float64")}, "", `column "z": expected (absent), found int64`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := decodeAll(t, c.obj(t), c.opts)
			if c.wantErr != "" {
				mustErrAs[*SchemaError](t, res.err)
				if !strings.Contains(res.err.Error(), c.wantErr) {
					t.Fatalf("error %v, want one containing %q", res.err, c.wantErr)
				}
				return
			}
			if res.err != nil {
				t.Fatal(res.err)
			}
			if got := strings.Join(res.rows, ","); got != c.want {
				t.Errorf("rows %s\nwant %s", got, c.want)
			}
		})
	}
}

// A conversion that cannot hold a value fails naming the file, row group
// and column: a date past 2262 is no timestamp[ns].
func TestParquetConversionLossIsDataError(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	sc := arrow.NewSchema([]arrow.Field{{Name: "d", Type: arrow.FixedWidthTypes.Date32, Nullable: true}}, nil)
	rec, _, err := array.RecordFromJSON(mem, sc, strings.NewReader(`[{"d": "2024-01-02"}, {"d": "3000-01-01"}]`))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	obj := &memObject{name: "s3://b/k.parquet", data: writeParquet(t, rec)}
	res := decodeAll(t, obj, Options{Schema: schemaOf(t, "d", "timestamp[ns]")})
	de := mustErrAs[*DataError](t, res.err)
	if de.File != obj.name || de.RowGroup != 0 || de.Column != "d" {
		t.Errorf("DataError %v: want the file, row group 0 and column d", de)
	}
}

// Nested Parquet columns widen too: a struct gains the table's other
// fields as nulls and its own are converted, a list's elements converted.
func TestParquetNestedWidening(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	fld := func(n string, t arrow.DataType) arrow.Field { return arrow.Field{Name: n, Type: t, Nullable: true} }
	sc := arrow.NewSchema([]arrow.Field{
		fld("s", arrow.StructOf(fld("a", arrow.PrimitiveTypes.Int32))),
		fld("l", arrow.ListOf(arrow.PrimitiveTypes.Int32)),
	}, nil)
	rec, _, err := array.RecordFromJSON(mem, sc, strings.NewReader(`[{"s": {"a": 1}, "l": [1, 2]}, {"s": null, "l": null}]`))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	obj := &memObject{name: "s3://b/k.parquet", data: writeParquet(t, rec)}
	table := arrow.NewSchema([]arrow.Field{
		fld("l", arrow.ListOf(arrow.PrimitiveTypes.Float64)),
		fld("s", arrow.StructOf(fld("b", arrow.BinaryTypes.String), fld("a", arrow.PrimitiveTypes.Int64))),
	}, nil)
	res := decodeAll(t, obj, Options{Schema: table})
	if res.err != nil {
		t.Fatal(res.err)
	}
	if got, want := strings.Join(res.rows, ","), `[1,2]|{"a":1,"b":null},null|null`; got != want {
		t.Errorf("rows %s\nwant %s", got, want)
	}
}
