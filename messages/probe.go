package messages

import "time"

// ProbeKind is how reading one file's schema went.
type ProbeKind string

const (
	// ProbeOK: the file gave a schema.
	ProbeOK ProbeKind = "ok"
	// ProbeEmpty: the file holds no rows (an empty JSON array, a blank
	// file); it loads zero rows into the table's schema.
	ProbeEmpty ProbeKind = "empty"
	// ProbeBad: the file's own fault (malformed, changed since listed); it
	// fails before loading.
	ProbeBad ProbeKind = "bad"
	// ProbeTransient: the store failed; the coordinator probes the file
	// again itself.
	ProbeTransient ProbeKind = "transient"
)

// ProbeResult is one file's probe.
type ProbeResult struct {
	Source Source    `json:"source"`
	Kind   ProbeKind `json:"kind"`
	// Schema names the file's schema in its record's Schemas (ProbeOK).
	Schema string `json:"schema,omitempty"`
	Error  string `json:"error,omitempty"`
}

// ProbeRecord is what a worker found probing the files of one probe task.
// Each distinct schema is stored once: the files of a folder mostly share
// one, and a record must stay far below the store's payload limit.
type ProbeRecord struct {
	V       int               `json:"v"`
	LoadID  string            `json:"load_id"`
	Table   string            `json:"table"`
	Task    string            `json:"task"`
	Results []ProbeResult     `json:"results"`
	Schemas map[string][]byte `json:"schemas,omitempty"`
	Worker  string            `json:"worker,omitempty"`
	Updated time.Time         `json:"updated"`
}

// Preflight is a table's pre-flight: every listed file's schema read and
// merged into the table's. It is kept in the table record, so a resumed
// coordinator does not probe again.
type Preflight struct {
	// Files were probed; Schemas distinct schemas were found among them.
	Files   int   `json:"files"`
	Bytes   int64 `json:"bytes"`
	Schemas int   `json:"schemas"`
	// Empty files hold no rows; they load zero rows.
	Empty int `json:"empty,omitempty"`
	// Distributed: the workers probed the files, as probe tasks.
	Distributed bool `json:"distributed,omitempty"`
	// Widened says, per column, how the files' types were widened into
	// the table's.
	Widened []string `json:"widened,omitempty"`
	// Dialect is the CSV dialect the table's files are read in, when
	// any was detected.
	Dialect string `json:"dialect,omitempty"`
	// Rejected files fail before loading: unreadable, or not fitting the
	// table's schema. They are recorded failed when the table is listed.
	Rejected []ManifestFailure `json:"rejected,omitempty"`
}
