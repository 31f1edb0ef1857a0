package lake

import (
	"fmt"
	"strings"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// evolve stages, in tx, the changes that make the table's current schema
// want: columns added, dropped, promoted where Iceberg allows, and
// replaced (a new field ID) where it does not. A column whose new type
// promotes to the table's (int data in a long column) keeps the table's
// type: its data is written wide. The same table and want always stage
// the same changes and field IDs, which is what lets Prepare announce the
// IDs workers write and Commit stage them again. It returns what changed,
// in words for the report.
func evolve(tx *table.Transaction, cur, want *iceberg.Schema) ([]string, error) {
	var changes []string
	us := tx.UpdateSchema(true, true)
	ops := 0
	for _, c := range cur.Fields() {
		if _, ok := want.FindFieldByName(c.Name); !ok {
			us.DeleteColumn([]string{c.Name})
			ops++
			changes = append(changes, fmt.Sprintf("column %q dropped (no file of this load has it)", c.Name))
		}
	}
	for _, w := range want.Fields() {
		c, ok := cur.FindFieldByName(w.Name)
		switch {
		case !ok:
			us.AddColumn([]string{w.Name}, w.Type, "", w.Required, nil)
			ops++
			changes = append(changes, fmt.Sprintf("column %q added (%s)", w.Name, w.Type))
		case sameType(w.Type, c.Type) || promotes(w.Type, c.Type):
			if c.Required && !w.Required {
				us.UpdateColumn([]string{w.Name}, table.ColumnUpdate{Required: iceberg.Optional[bool]{Valid: true, Val: false}})
				ops++
				changes = append(changes, fmt.Sprintf("column %q now optional", w.Name))
			}
		case nestedEvolves(c.Type, w.Type):
			n, ch := evolveStruct(us, []string{w.Name}, c.Type.(*iceberg.StructType), w.Type.(*iceberg.StructType))
			ops += n
			changes = append(changes, ch...)
		case promotes(c.Type, w.Type):
			us.UpdateColumn([]string{w.Name}, table.ColumnUpdate{FieldType: iceberg.Optional[iceberg.Type]{Valid: true, Val: w.Type}})
			ops++
			changes = append(changes, fmt.Sprintf("column %q promoted from %s to %s", w.Name, c.Type, w.Type))
			if c.Required && !w.Required {
				us.UpdateColumn([]string{w.Name}, table.ColumnUpdate{Required: iceberg.Optional[bool]{Valid: true, Val: false}})
			}
		default:
			us.DeleteColumn([]string{w.Name})
			us.AddColumn([]string{w.Name}, w.Type, "", w.Required, nil)
			ops++
			changes = append(changes, fmt.Sprintf("column %q changed from %s to %s, which Iceberg cannot promote: it is a new column (new field id); earlier snapshots keep the old one", w.Name, c.Type, w.Type))
		}
	}
	if ops == 0 {
		return nil, nil
	}
	if err := us.Commit(); err != nil {
		return nil, fmt.Errorf("evolving the schema: %w", err)
	}
	return changes, nil
}

// sameType compares types ignoring field IDs (a new schema's are
// placeholders) but not names, order or requiredness of nested fields.
func sameType(a, b iceberg.Type) bool {
	switch at := a.(type) {
	case *iceberg.StructType:
		bt, ok := b.(*iceberg.StructType)
		if !ok || len(at.FieldList) != len(bt.FieldList) {
			return false
		}
		for i, f := range at.FieldList {
			g := bt.FieldList[i]
			if f.Name != g.Name || f.Required != g.Required || !sameType(f.Type, g.Type) {
				return false
			}
		}
		return true
	case *iceberg.ListType:
		bt, ok := b.(*iceberg.ListType)
		return ok && at.ElementRequired == bt.ElementRequired && sameType(at.Element, bt.Element)
	case *iceberg.MapType:
		bt, ok := b.(*iceberg.MapType)
		return ok && at.ValueRequired == bt.ValueRequired && sameType(at.KeyType, bt.KeyType) && sameType(at.ValueType, bt.ValueType)
	default:
		return a.Equals(b)
	}
}

// promotes reports whether Iceberg reads a column of type from as type to
// (int → long, float → double, a decimal to one of more digits and the
// same scale).
func promotes(from, to iceberg.Type) bool {
	switch f := from.(type) {
	case iceberg.Int32Type:
		_, ok := to.(iceberg.Int64Type)
		return ok
	case iceberg.Float32Type:
		_, ok := to.(iceberg.Float64Type)
		return ok
	case iceberg.DecimalType:
		t, ok := to.(iceberg.DecimalType)
		return ok && f.Scale() == t.Scale() && f.Precision() < t.Precision()
	}
	return false
}

// nestedEvolves reports whether struct cur becomes struct want by changes
// Iceberg makes in place, field by field (added, dropped, promoted, now
// optional), so the struct keeps its field IDs and earlier snapshots keep
// reading it. Anything else replaces the whole column.
func nestedEvolves(cur, want iceberg.Type) bool {
	c, ok1 := cur.(*iceberg.StructType)
	w, ok2 := want.(*iceberg.StructType)
	if !ok1 || !ok2 {
		return false
	}
	for _, wf := range w.FieldList {
		cf, ok := fieldNamed(c, wf.Name)
		switch {
		case !ok, sameType(wf.Type, cf.Type), promotes(wf.Type, cf.Type), promotes(cf.Type, wf.Type):
		case nestedEvolves(cf.Type, wf.Type):
		default:
			return false
		}
	}
	return true
}

func fieldNamed(st *iceberg.StructType, name string) (iceberg.NestedField, bool) {
	for _, f := range st.FieldList {
		if f.Name == name {
			return f, true
		}
	}
	return iceberg.NestedField{}, false
}

// evolveStruct stages the in-place changes nestedEvolves allowed, for the
// struct at path.
func evolveStruct(us *table.UpdateSchema, path []string, cur, want *iceberg.StructType) (ops int, changes []string) {
	at := func(name string) []string { return append(append([]string{}, path...), name) }
	dotted := func(name string) string { return strings.Join(at(name), ".") }
	for _, cf := range cur.FieldList {
		if _, ok := fieldNamed(want, cf.Name); !ok {
			us.DeleteColumn(at(cf.Name))
			ops++
			changes = append(changes, fmt.Sprintf("field %q dropped (no file of this load has it)", dotted(cf.Name)))
		}
	}
	for _, wf := range want.FieldList {
		cf, ok := fieldNamed(cur, wf.Name)
		switch {
		case !ok:
			// A field added to a struct with rows is optional whatever the
			// files say: earlier rows have no value for it.
			us.AddColumn(at(wf.Name), wf.Type, "", false, nil)
			ops++
			changes = append(changes, fmt.Sprintf("field %q added (%s)", dotted(wf.Name), wf.Type))
		case sameType(wf.Type, cf.Type) || promotes(wf.Type, cf.Type):
			if cf.Required && !wf.Required {
				us.UpdateColumn(at(wf.Name), table.ColumnUpdate{Required: iceberg.Optional[bool]{Valid: true, Val: false}})
				ops++
				changes = append(changes, fmt.Sprintf("field %q now optional", dotted(wf.Name)))
			}
		case promotes(cf.Type, wf.Type):
			us.UpdateColumn(at(wf.Name), table.ColumnUpdate{FieldType: iceberg.Optional[iceberg.Type]{Valid: true, Val: wf.Type}})
			ops++
			changes = append(changes, fmt.Sprintf("field %q promoted from %s to %s", dotted(wf.Name), cf.Type, wf.Type))
		default: // nestedEvolves
			n, ch := evolveStruct(us, at(wf.Name), cf.Type.(*iceberg.StructType), wf.Type.(*iceberg.StructType))
			ops += n
			changes = append(changes, ch...)
		}
	}
	return ops, changes
}
