package lake_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/s3load/s3load/internal/lake/lakecheck"
)

// Loads whose schemas differ evolve the table: each change is announced
// by Prepare, parts carry the table's field IDs, and both readers read
// the table after every load.
func TestSchemaEvolutionAcrossLoads(t *testing.T) {
	i32, i64, str := arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Int64, arrow.BinaryTypes.String
	steps := []struct {
		name    string
		schema  *arrow.Schema
		rows    string
		changes []string          // what each announced change says (a substring)
		types   map[string]string // the table's column types after the load
	}{
		{"first", schemaOf(field("id", i64), field("n", i32), field("s", str)),
			`[{"id":1,"n":1,"s":"a"}]`, nil,
			map[string]string{"id": "long", "n": "int", "s": "string"}},
		{"add column", schemaOf(field("id", i64), field("n", i32), field("s", str), field("extra", str)),
			`[{"id":2,"n":2,"s":"b","extra":"e"}]`, []string{`column "extra" added`},
			map[string]string{"id": "long", "n": "int", "s": "string", "extra": "string"}},
		{"drop column", schemaOf(field("id", i64), field("n", i32), field("s", str)),
			`[{"id":3,"n":3,"s":"c"}]`, []string{`column "extra" dropped`},
			map[string]string{"id": "long", "n": "int", "s": "string"}},
		{"promote int to long", schemaOf(field("id", i64), field("n", i64), field("s", str)),
			`[{"id":4,"n":4000000000,"s":"d"}]`, []string{`column "n" promoted from int to long`},
			map[string]string{"id": "long", "n": "long", "s": "string"}},
		{"int data in a long column", schemaOf(field("id", i64), field("n", i32), field("s", str)),
			`[{"id":5,"n":5,"s":"e"}]`, nil,
			map[string]string{"id": "long", "n": "long", "s": "string"}},
		{"string to long", schemaOf(field("id", i64), field("n", i32), field("s", i64)),
			`[{"id":6,"n":6,"s":66}]`, []string{`column "s" changed from string to long, which Iceberg cannot promote: it is a new column (new field id)`},
			map[string]string{"id": "long", "n": "long", "s": "long"}},
	}
	e := newFSLake(t, 0)
	ids := map[string]int{} // field ID of each column as last seen
	for i, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			l := e.prepare(t, "evo", "load-"+strconv.Itoa(i), st.schema)
			if len(l.prep.Changes) != len(st.changes) {
				t.Errorf("changes %q, want ones saying %q", l.prep.Changes, st.changes)
			} else {
				for j, c := range st.changes {
					if !strings.Contains(l.prep.Changes[j], c) {
						t.Errorf("change %q does not say %q", l.prep.Changes[j], c)
					}
				}
			}
			e.writePart(t, l, "p.parquet", st.rows)
			res := e.commit(t, l)

			got := e.check(t, res.MetadataLocation) // fails on field IDs the table lacks
			types := map[string]string{}
			for _, f := range got.Schema {
				types[f.Name] = f.Type
			}
			if !mapsEqual(types, st.types) {
				t.Errorf("table columns %v, want %v", types, st.types)
			}
			if got.Rows != 1 {
				t.Errorf("lakecheck reads %d rows, want 1", got.Rows)
			}
			// The write schema's field IDs are the table's.
			ws := l.writeSchema(t)
			for _, f := range got.Schema {
				wf, ok := ws.FieldsByName(f.Name)
				if !ok {
					t.Errorf("write schema lacks %q", f.Name)
					continue
				}
				if id := wf[0].Metadata.FindKey("PARQUET:field_id"); id < 0 || wf[0].Metadata.Values()[id] != strconv.Itoa(f.ID) {
					t.Errorf("write schema's %q has metadata %v, table field id %d", f.Name, wf[0].Metadata, f.ID)
				}
			}
			checkIDs(t, st.name, got, ids)
			if rows, want := scanRows(t, e.loadTable(t, "evo")), canonRows(t, st.rows); !slices.Equal(rows, want) {
				t.Errorf("iceberg-go reads %v, want %v", rows, want)
			}
		})
	}
}

// checkIDs fails when a column kept its name and type family but changed
// field ID, or was replaced and kept its ID.
func checkIDs(t *testing.T, step string, got *lakecheck.Table, ids map[string]int) {
	t.Helper()
	for _, f := range got.Schema {
		prev, seen := ids[f.Name]
		switch {
		case !seen:
		case step == "string to long" && f.Name == "s":
			if f.ID == prev {
				t.Errorf("replaced column s kept field id %d", prev)
			}
		case f.ID != prev:
			t.Errorf("column %s changed field id %d → %d", f.Name, prev, f.ID)
		}
		ids[f.Name] = f.ID
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// A struct column that gains, loses or widens a field evolves in place:
// the struct keeps its field ID (earlier snapshots keep reading it), each
// nested change is announced, and both readers read every load.
func TestNestedEvolutionInPlace(t *testing.T) {
	i32, i64, str := arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Int64, arrow.BinaryTypes.String
	st := func(fields ...arrow.Field) arrow.Field { return field("st", arrow.StructOf(fields...)) }
	steps := []struct {
		name    string
		schema  *arrow.Schema
		rows    string
		changes []string
	}{
		{"first", schemaOf(field("id", i64), st(field("x", i32))), `[{"id":1,"st":{"x":1}}]`, nil},
		{"field added", schemaOf(field("id", i64), st(field("x", i32), field("y", str))),
			`[{"id":2,"st":{"x":2,"y":"b"}}]`, []string{`field "st.y" added`}},
		{"field promoted", schemaOf(field("id", i64), st(field("x", i64), field("y", str))),
			`[{"id":3,"st":{"x":3000000000,"y":"c"}}]`, []string{`field "st.x" promoted from int to long`}},
		{"field dropped", schemaOf(field("id", i64), st(field("x", i64))),
			`[{"id":4,"st":{"x":4}}]`, []string{`field "st.y" dropped`}},
	}
	e := newFSLake(t, 0)
	stID := 0
	for i, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			l := e.prepare(t, "nested", "load-"+strconv.Itoa(i), s.schema)
			if len(l.prep.Changes) != len(s.changes) {
				t.Fatalf("changes %q, want ones saying %q", l.prep.Changes, s.changes)
			}
			for j, c := range s.changes {
				if !strings.Contains(l.prep.Changes[j], c) {
					t.Errorf("change %q does not say %q", l.prep.Changes[j], c)
				}
			}
			e.writePart(t, l, "p.parquet", s.rows)
			res := e.commit(t, l)
			got := e.check(t, res.MetadataLocation)
			for _, f := range got.Schema {
				if f.Name != "st" {
					continue
				}
				if stID != 0 && f.ID != stID {
					t.Errorf("st changed field id %d → %d: replaced, not evolved", stID, f.ID)
				}
				stID = f.ID
			}
			if rows, want := scanRows(t, e.loadTable(t, "nested")), canonRows(t, s.rows); !slices.Equal(rows, want) {
				t.Errorf("iceberg-go reads %v, want %v", rows, want)
			}
		})
	}
}
