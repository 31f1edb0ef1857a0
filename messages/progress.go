package messages

import "time"

// TablePhase is where one table stands within a load, for whoever watches.
type TablePhase string

const (
	PhaseWaiting    TablePhase = "waiting"    // not started (table concurrency)
	PhasePreflight  TablePhase = "preflight"  // reading every file's schema
	PhaseListing    TablePhase = "listing"    // listing and publishing its files
	PhaseLoading    TablePhase = "loading"    // workers load its files
	PhaseCommitting TablePhase = "committing" // every file final; committing
	PhaseCommitted  TablePhase = "committed"
	PhaseFailed     TablePhase = "failed" // ended without a commit; Error says why
)

// ProgressRecord is a load's live progress as its coordinator sees it,
// written to the state store every few seconds under the job, so that
// `s3load status` on any host and the status page read the same figures.
// It is a view, never the record of truth: the file records are.
type ProgressRecord struct {
	V           int       `json:"v"`
	Job         string    `json:"job"`
	LoadID      string    `json:"load_id"`
	State       LoadState `json:"state"`
	Coordinator string    `json:"coordinator,omitempty"` // host/pid of the lease holder
	Started     time.Time `json:"started"`
	Ended       time.Time `json:"ended,omitzero"`
	// Updated is when the coordinator last wrote it: a record that stops
	// moving while State is running means the coordinator is gone.
	Updated time.Time       `json:"updated"`
	Tables  []TableProgress `json:"tables"`
}

// TableProgress is one table's progress within a load. Files count source
// files (a split file's ranges count once, when all are final).
type TableProgress struct {
	Table string     `json:"table"`
	Phase TablePhase `json:"phase"`
	// Files are the files listed for loading so far; Listed is set once
	// the listing is complete (until then Files still grows).
	Files  int  `json:"files"`
	Listed bool `json:"listed"`
	// Skipped are objects the listing passed over (not matching the
	// table's glob or format, empty folders' markers).
	Skipped  int `json:"skipped"`
	InFlight int `json:"in_flight"` // listed, not yet final
	Loaded   int `json:"loaded"`
	Failed   int `json:"failed"`
	Changed  int `json:"changed"`
	// Reused are loaded files kept from an earlier run of this load.
	Reused int   `json:"reused"`
	Rows   int64 `json:"rows"`
	// SourceBytes is the size of every listed file; DoneBytes of those
	// final (loaded, failed or changed); OutputBytes of the parts written.
	SourceBytes int64 `json:"source_bytes"`
	DoneBytes   int64 `json:"done_bytes"`
	OutputBytes int64 `json:"output_bytes"`
	// BytesPerSecond is the source bytes made final per second since the
	// table's loading began; ETASeconds the rest at that rate (0: unknown).
	BytesPerSecond float64   `json:"bytes_per_second"`
	ETASeconds     float64   `json:"eta_seconds,omitempty"`
	Started        time.Time `json:"started,omitzero"`
	Ended          time.Time `json:"ended,omitzero"`
	Committed      bool      `json:"committed"`
	// Snapshot is the committed snapshot (Iceberg) or load (plain Parquet).
	Snapshot string `json:"snapshot,omitempty"`
	Error    string `json:"error,omitempty"`
	// Failures are the first failed files, each with its error.
	Failures []ManifestFailure `json:"failures,omitempty"`
}

// MaxProgressFailures bounds TableProgress.Failures so the record stays
// far below the store's value limit whatever fails.
const MaxProgressFailures = 20
