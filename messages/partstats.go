package messages

// PartStats describe one written part as a table format's metadata lists
// it: read from the footer the worker just wrote, shipped in the file's
// record, so the coordinator's commit of 10,000 parts reads none of them.
type PartStats struct {
	// Rows is the part's row count (all its files'); Size its bytes.
	Rows int64 `json:"rows"`
	Size int64 `json:"size"`
	// Columns are the part's leaf columns that carry a field ID.
	Columns []ColumnStats `json:"columns,omitempty"`
}

// ColumnStats are one leaf column's figures in a part, keyed by its field
// ID. Bounds are in Iceberg's single-value binary form for the column's
// type, and absent when the footer has none that are exact.
type ColumnStats struct {
	FieldID int `json:"id"`
	// Size is the column's compressed bytes in the part.
	Size int64 `json:"size,omitempty"`
	// Values counts values, nulls included; Nulls the nulls alone.
	Values int64  `json:"values"`
	Nulls  int64  `json:"nulls"`
	Lower  []byte `json:"lower,omitempty"`
	Upper  []byte `json:"upper,omitempty"`
}
