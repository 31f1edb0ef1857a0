package messages

import "time"

// Field is one column of a table's schema as the manifest shows it.
type Field struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Nullable bool   `json:"nullable"`
}

// ManifestPart is one Parquet file of the table.
type ManifestPart struct {
	Path  string `json:"path"`
	Rows  int64  `json:"rows"`
	Bytes int64  `json:"bytes"`
}

// ManifestFile is one loaded source file and the part holding its rows
// (small files share parts).
type ManifestFile struct {
	Source Source `json:"source"`
	// Range is set when a big file was split: it appears once per range.
	Range *Range `json:"range,omitempty"`
	Path  string `json:"path"`
	Rows  int64  `json:"rows"`
	// Rejected counts the file's rows skipped into the reject table.
	Rejected int64 `json:"rejected,omitempty"`
}

// ManifestFailure is one listed file that did not load.
type ManifestFailure struct {
	Source   Source    `json:"source"`
	State    FileState `json:"state"`
	Error    string    `json:"error"`
	Attempts int       `json:"attempts"`
}

// Manifest is a committed table's _manifest.json: the table is exactly the
// files it lists.
type Manifest struct {
	V           int       `json:"v"`
	Table       string    `json:"table"`
	LoadID      string    `json:"load_id"`
	CommittedAt time.Time `json:"committed_at"`
	Rows        int64     `json:"rows"`
	Schema      []Field   `json:"schema"`
	// Parts are the files to read: the table is exactly these.
	Parts []ManifestPart `json:"parts"`
	// Files account for every loaded source file.
	Files  []ManifestFile    `json:"files"`
	Failed []ManifestFailure `json:"failed"`
	// Fingerprint and TableSchema (the decided schema, encoded) let the
	// table's next load reuse this one's parts of unchanged files.
	Fingerprint string `json:"fingerprint,omitempty"`
	TableSchema []byte `json:"table_schema,omitempty"`
}
