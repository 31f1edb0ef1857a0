package messages

// RejectsSuffix names a table's reject table: rows skipped under
// on_error: skip_row go to <table>__rejects, in the same target and format.
const RejectsSuffix = "__rejects"

// RejectsTable names the reject table of table.
func RejectsTable(table string) string { return table + RejectsSuffix }

// RejectsPart is the part of a reject table that holds one file's skipped
// rows.
type RejectsPart struct {
	// Path is relative to the reject table's directory.
	Path  string     `json:"path"`
	Bytes int64      `json:"bytes"`
	Stats *PartStats `json:"stats,omitempty"`
}

// RejectsPlan is how a load writes a table's reject table: settled with
// the table's own, before anything is published.
type RejectsPlan struct {
	Table string `json:"table"`
	// Schema is the reject table's Arrow IPC schema; WriteSchema and Base
	// are what the table format said (see TableRecord).
	Schema      []byte `json:"schema"`
	WriteSchema []byte `json:"write_schema,omitempty"`
	Base        string `json:"base,omitempty"`
	// Committed: this load's rejected rows are the reject table's.
	Committed bool `json:"committed,omitempty"`
}
