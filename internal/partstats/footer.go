package partstats

import (
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/parquet/metadata"

	"github.com/s3load/s3load/messages"
)

// ErrDuplicateFieldID means two leaf columns of one footer carry the same
// field ID, so their figures cannot be told apart.
var ErrDuplicateFieldID = errors.New("field ID on more than one leaf column")

// FromFooter describes a part from its Parquet footer: md.NumRows rows,
// size bytes (the file's, which the footer does not hold), and one
// ColumnStats per leaf column that has a field ID, in schema order, its
// figures summed over row groups. A column whose null count is missing
// from any row group is left out, since its counts cannot be known.
func FromFooter(md *metadata.FileMetaData, size int64) (messages.PartStats, error) {
	if md == nil || md.FileMetaData == nil || md.Schema == nil {
		return messages.PartStats{}, errors.New("describing part: no footer")
	}
	ncols := md.Schema.NumColumns()
	cols := make([]*column, ncols)
	leafOf := make(map[int32]string, ncols)
	for i := range ncols {
		c := md.Schema.Column(i)
		id := c.SchemaNode().FieldID()
		if id < 0 { // arrow-go's mark for a node without field_id
			continue
		}
		if prev, dup := leafOf[id]; dup {
			return messages.PartStats{}, fmt.Errorf("describing part: field ID %d on %s and %s: %w",
				id, prev, c.Path(), ErrDuplicateFieldID)
		}
		leafOf[id] = c.Path()
		cols[i] = &column{fieldID: int(id), kind: kindFor(c), nullsKnown: true, boundsOK: true}
	}

	for r, rg := range md.RowGroups {
		if len(rg.Columns) != ncols {
			return messages.PartStats{}, fmt.Errorf("describing part: row group %d has %d columns, schema %d",
				r, len(rg.Columns), ncols)
		}
		for i, cc := range rg.Columns {
			col := cols[i]
			if col == nil {
				continue
			}
			m := cc.MetaData
			if m == nil { // only an encrypted column's chunk goes without
				return messages.PartStats{}, fmt.Errorf("describing part: row group %d column %s: no chunk metadata",
					r, md.Schema.Column(i).Path())
			}
			ch := chunk{size: m.TotalCompressedSize, values: m.NumValues}
			if st := m.Statistics; st != nil {
				ch.nullsKnown, ch.nulls = st.IsSetNullCount(), st.GetNullCount()
				// min_value/max_value only: the deprecated min/max were
				// written in orders that differ from the logical type's.
				// A flag saying inexact means truncated, so no bound.
				if st.IsSetMinValue() && (!st.IsSetIsMinValueExact() || st.GetIsMinValueExact()) {
					ch.hasMin, ch.min = true, st.GetMinValue()
				}
				if st.IsSetMaxValue() && (!st.IsSetIsMaxValueExact() || st.GetIsMaxValueExact()) {
					ch.hasMax, ch.max = true, st.GetMaxValue()
				}
			}
			col.add(ch)
		}
	}

	ps := messages.PartStats{Rows: md.NumRows, Size: size}
	for _, col := range cols {
		if col == nil || !col.nullsKnown {
			continue
		}
		ps.Columns = append(ps.Columns, col.stats())
	}
	return ps, nil
}

// chunk is one column chunk's figures as the footer states them.
type chunk struct {
	size, values   int64
	nullsKnown     bool
	nulls          int64
	hasMin, hasMax bool
	min, max       []byte // Parquet plain encoding
}

// column gathers one leaf column's chunks.
type column struct {
	fieldID      int
	kind         *boundKind // nil: the column gets no bounds
	size, values int64
	nulls        int64
	nullsKnown   bool
	boundsOK     bool // every chunk so far had exact, usable bounds
	hasBounds    bool
	min, max     []byte // Parquet plain encoding
}

func (c *column) add(ch chunk) {
	c.size += ch.size
	c.values += ch.values
	if !ch.nullsKnown {
		c.nullsKnown, c.boundsOK = false, false
		return
	}
	c.nulls += ch.nulls
	if c.kind == nil || !c.boundsOK || ch.values == ch.nulls {
		// A chunk of nulls alone has no bounds to give and takes none away.
		return
	}
	if !ch.hasMin || !ch.hasMax || !c.kind.valid(ch.min) || !c.kind.valid(ch.max) {
		c.boundsOK = false
		return
	}
	if !c.hasBounds || c.kind.cmp(ch.min, c.min) < 0 {
		c.min = ch.min
	}
	if !c.hasBounds || c.kind.cmp(ch.max, c.max) > 0 {
		c.max = ch.max
	}
	c.hasBounds = true
}

func (c *column) stats() messages.ColumnStats {
	s := messages.ColumnStats{FieldID: c.fieldID, Size: c.size, Values: c.values, Nulls: c.nulls}
	if c.kind != nil && c.boundsOK && c.hasBounds {
		s.Lower = nonEmpty(c.kind.lower(c.min))
		s.Upper = nonEmpty(c.kind.upper(c.max))
	}
	return s
}

// nonEmpty leaves out an empty bound (the empty string or binary): it
// survives neither the message's JSON (omitempty) nor iceberg-go's
// decoding of a literal, and as a lower bound it excludes nothing.
func nonEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
