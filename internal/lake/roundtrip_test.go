package lake_test

import (
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

// Every kind of column s3load decodes goes through Prepare, a part written
// in the write schema, and Commit, and reads back the same from both
// readers.
func TestTypeRoundTrip(t *testing.T) {
	cols := []struct {
		field     arrow.Field
		write     arrow.DataType // the write schema's type
		iceberg   string         // the table's type, as lakecheck names it
		lo, hi    any            // lakecheck's Min and Max; nil: not aggregated
		jsonValue [2]string      // the column's values in the two rows
	}{
		{field("u64", arrow.PrimitiveTypes.Uint64), &arrow.Decimal128Type{Precision: 20, Scale: 0}, "decimal(20, 0)",
			float64(7), float64(18446744073709551615), [2]string{`7`, `18446744073709551615`}},
		{field("ts", &arrow.TimestampType{Unit: arrow.Nanosecond}), &arrow.TimestampType{Unit: arrow.Microsecond}, "timestamp",
			int64(1704164645123456), int64(1704164646000000), [2]string{`"2024-01-02T03:04:05.123456"`, `"2024-01-02T03:04:06"`}},
		{field("u32", arrow.PrimitiveTypes.Uint32), arrow.PrimitiveTypes.Int64, "long",
			int64(1), int64(4294967295), [2]string{`4294967295`, `1`}},
		{field("i8", arrow.PrimitiveTypes.Int8), arrow.PrimitiveTypes.Int32, "int",
			int64(-128), int64(127), [2]string{`-128`, `127`}},
		{field("f32", arrow.PrimitiveTypes.Float32), arrow.PrimitiveTypes.Float32, "float",
			float64(-1.5), float64(2.25), [2]string{`2.25`, `-1.5`}},
		{field("d", arrow.FixedWidthTypes.Date32), arrow.FixedWidthTypes.Date32, "date",
			int64(0), int64(19724), [2]string{`"1970-01-01"`, `"2024-01-02"`}},
		{field("dec", &arrow.Decimal128Type{Precision: 10, Scale: 2}), &arrow.Decimal128Type{Precision: 10, Scale: 2}, "decimal(10, 2)",
			float64(-3.5), float64(12345678.91), [2]string{`"12345678.91"`, `"-3.50"`}},
		{field("b", arrow.FixedWidthTypes.Boolean), arrow.FixedWidthTypes.Boolean, "boolean",
			false, true, [2]string{`true`, `false`}},
		{field("bin", arrow.BinaryTypes.Binary), arrow.BinaryTypes.Binary, "binary",
			nil, nil, [2]string{`"AAEC"`, `null`}},
		{field("st", arrow.StructOf(field("a", arrow.PrimitiveTypes.Int64), field("b", arrow.BinaryTypes.String))),
			arrow.StructOf(field("a", arrow.PrimitiveTypes.Int64), field("b", arrow.BinaryTypes.String)), "struct",
			nil, nil, [2]string{`{"a":1,"b":"x"}`, `{"a":null,"b":"y"}`}},
		{field("l", arrow.ListOf(arrow.PrimitiveTypes.Int32)), arrow.ListOf(arrow.PrimitiveTypes.Int32), "list",
			nil, nil, [2]string{`[1,2,3]`, `[]`}},
		{field("m", arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64)), arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64), "map",
			nil, nil, [2]string{`[{"key":"k","value":1}]`, `null`}},
	}
	fields := make([]arrow.Field, len(cols))
	rows := [2]string{"{", "{"}
	for i, c := range cols {
		fields[i] = c.field
		for r := range rows {
			if i > 0 {
				rows[r] += ","
			}
			rows[r] += `"` + c.field.Name + `":` + c.jsonValue[r]
		}
	}
	data := "[" + rows[0] + "}," + rows[1] + "}]"

	e := newFSLake(t, 0)
	l := e.prepare(t, "types", "load-1", schemaOf(fields...))
	ws := l.writeSchema(t)
	for i, c := range cols {
		if got := ws.Field(i); got.Name != c.field.Name || !arrow.TypeEqual(got.Type, c.write) {
			t.Errorf("write schema column %d is %s %s, want %s %s", i, got.Name, got.Type, c.field.Name, c.write)
		}
	}
	e.writePart(t, l, "p.parquet", data)
	res := e.commit(t, l)

	got := e.check(t, res.MetadataLocation)
	if got.Rows != 2 {
		t.Fatalf("lakecheck reads %d rows, want 2", got.Rows)
	}
	for _, c := range cols {
		agg := got.Columns[c.field.Name]
		if agg == nil {
			t.Errorf("lakecheck has no column %s", c.field.Name)
			continue
		}
		if agg.Type != c.iceberg {
			t.Errorf("%s: table type %s, want %s", c.field.Name, agg.Type, c.iceberg)
		}
		if c.lo == nil {
			continue
		}
		if agg.Count != 2 || agg.Min != c.lo || agg.Max != c.hi {
			t.Errorf("%s: lakecheck reads %d values in [%v (%T), %v (%T)], want 2 in [%v, %v]",
				c.field.Name, agg.Count, agg.Min, agg.Min, agg.Max, agg.Max, c.lo, c.hi)
		}
	}
	want := e.conformedRows(t, l, data)
	if rows := scanRows(t, e.loadTable(t, "types")); !slices.Equal(rows, want) {
		t.Errorf("iceberg-go reads\n%v\nwant\n%v", rows, want)
	}
}
