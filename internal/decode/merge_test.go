package decode

import (
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

func TestWiden(t *testing.T) {
	ts := func(u arrow.TimeUnit, tz string) arrow.DataType { return &arrow.TimestampType{Unit: u, TimeZone: tz} }
	dec := func(p, s int32) arrow.DataType { return &arrow.Decimal128Type{Precision: p, Scale: s} }
	pt := arrow.PrimitiveTypes
	str := arrow.BinaryTypes.String
	st := func(fs ...arrow.Field) arrow.DataType { return arrow.StructOf(fs...) }
	fld := func(n string, t arrow.DataType) arrow.Field { return arrow.Field{Name: n, Type: t, Nullable: true} }
	cases := []struct {
		name string
		a, b arrow.DataType
		text bool
		want arrow.DataType // nil: no common type
	}{
		{"same", pt.Int64, pt.Int64, false, pt.Int64},
		{"null to any", arrow.Null, pt.Int32, false, pt.Int32},
		{"any to null", str, arrow.Null, false, str},
		{"signed ints", pt.Int8, pt.Int32, false, pt.Int32},
		{"unsigned ints", pt.Uint16, pt.Uint8, false, pt.Uint16},
		{"uint8 int8", pt.Uint8, pt.Int8, false, pt.Int16},
		{"uint32 int16", pt.Uint32, pt.Int16, false, pt.Int64},
		{"int64 uint16", pt.Int64, pt.Uint16, false, pt.Int64},
		{"uint64 signed", pt.Uint64, pt.Int8, false, dec(20, 0)},
		{"int float", pt.Int64, pt.Float32, false, pt.Float64},
		{"float32 float64", pt.Float32, pt.Float64, false, pt.Float64},
		{"int decimal", pt.Int32, dec(5, 2), false, dec(12, 2)},
		{"decimal int64", dec(10, 4), pt.Int64, false, dec(23, 4)},
		{"decimals", dec(10, 2), dec(8, 5), false, dec(13, 5)},
		{"decimal at 38", dec(38, 10), pt.Int64, false, dec(38, 10)},
		{"decimal past 38", dec(38, 25), pt.Int64, false, pt.Float64},
		{"float decimal", pt.Float64, dec(10, 2), false, pt.Float64},
		{"date timestamp", arrow.FixedWidthTypes.Date32, ts(arrow.Millisecond, ""), false, ts(arrow.Millisecond, "")},
		{"timestamp date", ts(arrow.Second, "UTC"), arrow.FixedWidthTypes.Date32, false, ts(arrow.Second, "UTC")},
		{"finer unit", ts(arrow.Millisecond, ""), ts(arrow.Nanosecond, ""), false, ts(arrow.Nanosecond, "")},
		{"naive zoned", ts(arrow.Microsecond, ""), ts(arrow.Millisecond, "UTC"), false, ts(arrow.Microsecond, "UTC")},
		{"string int", str, pt.Int64, false, str},
		{"bool string", arrow.FixedWidthTypes.Boolean, str, false, str},
		{"date string", arrow.FixedWidthTypes.Date32, str, false, str},
		{"binary string", arrow.BinaryTypes.Binary, str, false, arrow.BinaryTypes.Binary},
		{"large string", arrow.BinaryTypes.LargeString, pt.Int8, false, arrow.BinaryTypes.LargeString},
		{"binary int parquet", arrow.BinaryTypes.Binary, pt.Int8, false, nil},
		{"bool int parquet", arrow.FixedWidthTypes.Boolean, pt.Int8, false, nil},
		{"bool int text", arrow.FixedWidthTypes.Boolean, pt.Int64, true, str},
		{"struct union", st(fld("a", pt.Int32), fld("b", str)), st(fld("c", pt.Float64), fld("a", pt.Int64)), false,
			st(fld("a", pt.Int64), fld("b", str), fld("c", pt.Float64))},
		{"struct field conflict parquet", st(fld("a", pt.Int32)), st(fld("a", st(fld("x", pt.Int8)))), false, nil},
		{"struct field conflict text", st(fld("a", pt.Int64)), st(fld("a", st(fld("x", pt.Int64)))), true,
			st(fld("a", str))},
		{"lists", arrow.ListOf(pt.Int32), arrow.ListOf(pt.Float64), false, arrow.ListOf(pt.Float64)},
		{"list of structs", arrow.ListOf(st(fld("a", pt.Int8))), arrow.ListOf(st(fld("b", str))), false,
			arrow.ListOf(st(fld("a", pt.Int8), fld("b", str)))},
		{"struct int parquet", st(fld("a", pt.Int32)), pt.Int32, false, nil},
		{"struct int text", st(fld("a", pt.Int64)), pt.Int64, true, str},
		{"list string parquet", arrow.ListOf(pt.Int32), str, false, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := widen(c.a, c.b, c.text)
			if c.want == nil {
				if ok {
					t.Fatalf("widen(%s, %s) = %s, want no common type", c.a, c.b, got)
				}
				return
			}
			if !ok || !arrow.TypeEqual(got, c.want) {
				t.Fatalf("widen(%s, %s) = %v, %v; want %s", c.a, c.b, got, ok, c.want)
			}
			if !c.text && (!fitsInto(c.a, got) || !fitsInto(c.b, got)) {
				t.Errorf("%s and %s do not fit into their widened %s", c.a, c.b, got)
			}
		})
	}
}

// sch builds a schema from "name:type" pairs (types as ParseType reads
// them, or "null").
func sch(t testing.TB, cols ...string) *arrow.Schema {
	t.Helper()
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		name, typ, _ := strings.Cut(c, ":")
		dt, err := typeFromString(typ)
		if err != nil {
			t.Fatal(err)
		}
		fields[i] = arrow.Field{Name: name, Type: dt, Nullable: true}
	}
	return arrow.NewSchema(fields, nil)
}

func typeFromString(s string) (arrow.DataType, error) {
	if s == "null" {
		return arrow.Null, nil
	}
	return ParseType(s)
}

// describe prints a merge's outcome compactly for comparison.
func describe(r MergeResult) string {
	var b strings.Builder
	for i, f := range r.Schema.Fields() {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s:%s", f.Name, f.Type)
	}
	for i, m := range r.Misfits {
		if m != nil {
			fmt.Fprintf(&b, " | misfit %d: %s", i, strings.TrimPrefix(m.Error(), m.File+": schema differs from the table: "))
		}
	}
	for _, w := range r.Widened {
		fmt.Fprintf(&b, " | %s", w)
	}
	return b.String()
}

func TestMergeSchemas(t *testing.T) {
	type file struct {
		cols []string
		text bool
	}
	pq := func(cols ...string) file { return file{cols: cols} }
	txt := func(cols ...string) file { return file{cols: cols, text: true} }
	cases := []struct {
		name   string
		files  []file
		policy MergePolicy
		want   string
	}{
		{"consistent widens, any order",
			[]file{pq("id:int32", "amount:int64"), pq("amount:float64", "id:int64"), pq("id:null", "amount:int64")}, MergePolicy{},
			"id:int64 amount:float64 | id: int32 → int64 | amount: int64 → float64"},
		{"consistent: the set most files have wins",
			[]file{pq("a:int64"), pq("a:int64", "b:utf8"), pq("b:utf8", "a:int64")}, MergePolicy{Policy: PolicyConsistent},
			`a:int64 b:utf8 | misfit 0: column "b": expected utf8, found (absent) (to load it: schema_policy: union)`},
		{"consistent: a tie goes to the earliest file",
			[]file{pq("a:int64", "c:bool"), pq("a:int64", "b:utf8")}, MergePolicy{},
			`a:int64 c:bool | misfit 1: column "c": expected bool, found (absent); column "b": expected (absent), found utf8 (to load it: schema_policy: union)`},
		{"consistent: parquet conflict is a misfit with a hint",
			[]file{pq("a:int64", "b:bool"), pq("a:int64", "b:int32")}, MergePolicy{},
			`a:int64 b:bool | misfit 1: column "b": expected bool, found int32 (to load it: columns: {b: string})`},
		{"consistent: text conflict becomes string",
			[]file{txt("a:int64", "b:bool"), txt("a:date32", "b:int64")}, MergePolicy{},
			"a:utf8 b:utf8 | a: int64, date32 → utf8 | b: bool, int64 → utf8"},
		{"consistent: override decides and checks parquet files",
			[]file{pq("a:int64", "b:bool"), pq("a:int32", "b:int32")}, MergePolicy{Columns: map[string]arrow.Field{"b": {Type: arrow.BinaryTypes.String}}},
			"a:int64 b:utf8 | a: int32 → int64"},
		{"consistent: override that a file does not fit",
			[]file{pq("a:int64"), pq("a:float64")}, MergePolicy{Columns: map[string]arrow.Field{"a": {Type: arrow.PrimitiveTypes.Int64}}},
			`a:int64 | misfit 1: column "a": expected int64, found float64 (to load it: columns: {a: float64})`},
		{"consistent: duplicates are fine",
			[]file{pq("a:int64"), pq("a:int64"), pq("a:int64")}, MergePolicy{}, "a:int64"},
		{"union: first-seen order, widened",
			[]file{pq("a:int32"), pq("b:utf8", "a:int64"), pq("c:date32"), pq("c:timestamp[us]")}, MergePolicy{Policy: PolicyUnion},
			"a:int64 b:utf8 c:timestamp[us] | a: int32 → int64 | c: date32 → timestamp[us]"},
		{"declared: fits, extra refused",
			[]file{pq("a:int32", "b:utf8"), pq("a:int64", "x:bool"), pq("b:utf8")},
			MergePolicy{Policy: PolicyDeclared, Declared: sch(t, "a:int64", "b:utf8")},
			`a:int64 b:utf8 | misfit 1: column "b": expected utf8, found (absent); column "x": expected (absent), found bool (to load it: schema_policy: union; extra_columns: ignore)` +
				` | misfit 2: column "a": expected int64, found (absent) (to load it: schema_policy: union)`},
		{"declared: extra ignored, narrowing refused",
			[]file{pq("a:int64", "x:bool"), pq("a:float64"), txt("a:utf8")},
			MergePolicy{Policy: PolicyDeclared, Declared: sch(t, "a:int64"), IgnoreExtra: true},
			`a:int64 | misfit 1: column "a": expected int64, found float64 (to load it: columns: {a: float64})`},
		{"declared: text fits by shape",
			[]file{txt("a:utf8", "b:int64"), txt("a:int64", "b:bool")},
			MergePolicy{Policy: PolicyDeclared, Declared: sch(t, "a:int64", "b:date32")}, "a:int64 b:date32"},
		{"declared: override of an undeclared column adds it",
			nil, MergePolicy{Policy: PolicyDeclared, Declared: sch(t, "a:int64"), Columns: map[string]arrow.Field{"z": {Type: arrow.BinaryTypes.String}}},
			"a:int64 z:utf8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := make([]FileSchema, len(c.files))
			for i, f := range c.files {
				files[i] = FileSchema{Name: fmt.Sprintf("f%d", i), Schema: sch(t, f.cols...), Text: f.text}
			}
			r, err := MergeSchemas(files, c.policy)
			if err != nil {
				t.Fatal(err)
			}
			if got := describe(r); got != c.want {
				t.Fatalf("got  %s\nwant %s", got, c.want)
			}
			for _, f := range r.Schema.Fields() {
				if !f.Nullable {
					t.Errorf("column %q is not nullable", f.Name)
				}
			}
		})
	}
}

func TestMergeUnionConflictAddsNothing(t *testing.T) {
	files := []FileSchema{
		{Name: "a", Schema: sch(t, "a:int32")},
		{Name: "b", Schema: arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32), Nullable: true}, {Name: "z", Type: arrow.PrimitiveTypes.Int8}}, nil)},
		{Name: "c", Schema: sch(t, "y:bool", "a:int8")},
	}
	r, err := MergeSchemas(files, MergePolicy{Policy: PolicyUnion})
	if err != nil {
		t.Fatal(err)
	}
	want := `a:int32 y:bool | misfit 1: column "a": expected int32, found list<item: int32, nullable> | a: int8 → int32`
	if got := describe(r); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if r.Misfits[1].Hint != "" {
		t.Errorf("a list beside an int has hint %q; no setting loads it", r.Misfits[1].Hint)
	}
}

func TestMergeSchemasErrors(t *testing.T) {
	one := []FileSchema{{Name: "f", Schema: sch(t, "a:int64")}}
	cases := []struct {
		name  string
		files []FileSchema
		p     MergePolicy
		want  string
	}{
		{"unknown policy", one, MergePolicy{Policy: "loose"}, `unknown schema_policy "loose"`},
		{"no files", nil, MergePolicy{}, "no file"},
		{"nil schema", []FileSchema{{Name: "x"}}, MergePolicy{}, "file 0 (x) has no schema"},
		{"declared without schema", one, MergePolicy{Policy: PolicyDeclared}, "needs a declared schema"},
		{"override of no column", one, MergePolicy{Columns: map[string]arrow.Field{"b": {Type: arrow.BinaryTypes.String}}}, `["b"]`},
		{"union override of no column", one, MergePolicy{Policy: PolicyUnion, Columns: map[string]arrow.Field{"b": {Type: arrow.BinaryTypes.String}}}, `["b"]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := MergeSchemas(c.files, c.p)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestMergeSchemasMetadata(t *testing.T) {
	dialect := arrow.NewMetadata([]string{MetaCSVDelimiter, MetaCSVQuote, MetaCSVHeader}, []string{";", `"`, "true"})
	other := arrow.NewMetadata([]string{MetaCSVDelimiter, MetaCSVQuote, MetaCSVHeader}, []string{",", `"`, "true"})
	files := []FileSchema{
		{Name: "p", Schema: sch(t, "a:int64")},
		{Name: "c1", Schema: arrow.NewSchema(sch(t, "a:int64").Fields(), &dialect), Text: true},
		{Name: "c2", Schema: arrow.NewSchema(sch(t, "a:int64").Fields(), &other), Text: true},
	}
	fmeta := arrow.NewMetadata([]string{"s3load.format"}, []string{"%d/%m/%Y"})
	ovr := map[string]arrow.Field{"a": {Name: "a", Type: arrow.FixedWidthTypes.Date32, Metadata: fmeta}}
	for _, p := range []MergePolicy{{Columns: ovr}, {Policy: PolicyUnion, Columns: ovr}, {Policy: PolicyDeclared, Declared: sch(t, "a:utf8"), Columns: ovr}} {
		t.Run(p.Policy, func(t *testing.T) {
			r, err := MergeSchemas(files, p)
			if err != nil {
				t.Fatal(err)
			}
			if d, ok := dialectFromSchema(r.Schema); !ok || d.delim != ';' {
				t.Errorf("dialect %+v, %v; want the first text file's ';'", d, ok)
			}
			f := r.Schema.Field(0)
			if !arrow.TypeEqual(f.Type, arrow.FixedWidthTypes.Date32) {
				t.Errorf("type %s, want the override's date32", f.Type)
			}
			if v, _ := f.Metadata.GetValue("s3load.format"); v != "%d/%m/%Y" {
				t.Errorf("field metadata %v, want the override's", f.Metadata)
			}
			for i, m := range r.Misfits {
				if i > 0 && m != nil {
					t.Errorf("text file %d: %v", i, m)
				}
			}
			if r.Misfits[0] == nil {
				t.Error("a Parquet int64 fits a date32 override")
			}
		})
	}
}

// BenchmarkMergeSchemas merges 10,000 files of 50 columns, each its own
// schema value, a few of their types widened.
func BenchmarkMergeSchemas(b *testing.B) {
	files := make([]FileSchema, 10_000)
	for i := range files {
		fields := make([]arrow.Field, 50)
		for j := range fields {
			dt := arrow.DataType(arrow.PrimitiveTypes.Int64)
			switch {
			case j%5 == 1:
				dt = arrow.BinaryTypes.String
			case j%5 == 2 && i%100 == 7:
				dt = arrow.PrimitiveTypes.Float64
			case j%5 == 3:
				dt = &arrow.TimestampType{Unit: arrow.Microsecond}
			}
			fields[(j+i)%50] = arrow.Field{Name: fmt.Sprintf("column_%02d", j), Type: dt, Nullable: true}
		}
		files[i] = FileSchema{Name: fmt.Sprintf("s3://b/part-%05d.parquet", i), Schema: arrow.NewSchema(fields, nil)}
	}
	for _, policy := range []string{PolicyConsistent, PolicyUnion} {
		b.Run(policy, func(b *testing.B) {
			for b.Loop() {
				r, err := MergeSchemas(files, MergePolicy{Policy: policy})
				if err != nil || r.Schema.NumFields() != 50 || len(r.Widened) != 10 {
					b.Fatalf("%v: %d columns, widened %q", err, r.Schema.NumFields(), r.Widened)
				}
			}
		})
	}
}

// The same schema value given many times, and a name repeated within a
// file, merge as once.
func TestMergeSchemasDuplicates(t *testing.T) {
	s := sch(t, "a:int32", "b:utf8")
	dup := arrow.NewSchema([]arrow.Field{
		{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "a", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	}, nil)
	files := []FileSchema{{Name: "1", Schema: s}, {Name: "2", Schema: s}, {Name: "3", Schema: dup}, {Name: "4", Schema: s}}
	for _, policy := range []string{PolicyConsistent, PolicyUnion} {
		r, err := MergeSchemas(files, MergePolicy{Policy: policy})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := describe(r), "a:int64 b:utf8 | a: int32 → int64"; got != want {
			t.Errorf("%s: got %s, want %s", policy, got, want)
		}
	}
}

// A text file's nested column (JSON objects) cannot fill a declared
// scalar, nor a scalar a declared struct; a string takes anything.
func TestMergeDeclaredTextShape(t *testing.T) {
	st := arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int64, Nullable: true})
	file := arrow.NewSchema([]arrow.Field{{Name: "a", Type: st, Nullable: true}, {Name: "b", Type: arrow.PrimitiveTypes.Int64, Nullable: true}, {Name: "c", Type: st, Nullable: true}}, nil)
	declared := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true}, {Name: "b", Type: st, Nullable: true}, {Name: "c", Type: arrow.BinaryTypes.String, Nullable: true}}, nil)
	r, err := MergeSchemas([]FileSchema{{Name: "j", Schema: file, Text: true}}, MergePolicy{Policy: PolicyDeclared, Declared: declared})
	if err != nil {
		t.Fatal(err)
	}
	m := r.Misfits[0]
	if m == nil || len(m.Diffs) != 2 || m.Diffs[0].Column != "a" || m.Diffs[1].Column != "b" {
		t.Fatalf("misfit %v: want columns a and b", m)
	}
	if want := "columns: {a: string, b: string}"; m.Hint != want {
		t.Errorf("hint %q, want %q", m.Hint, want)
	}
}
