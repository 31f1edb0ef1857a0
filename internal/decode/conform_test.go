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
