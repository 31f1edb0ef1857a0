package lake

import (
	"fmt"

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
