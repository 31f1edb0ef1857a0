package messages

import "time"

// FileState is where one listed file stands in a load.
type FileState string

const (
	// StateListed: listed and published, not yet finished.
	StateListed FileState = "listed"
	// StateLoaded: its part is durable in the staging area.
	StateLoaded FileState = "loaded"
	// StateFailed: it could not be loaded; Error says why.
	StateFailed FileState = "failed"
	// StateChanged: its ETag no longer matched the listing when it was read.
	StateChanged FileState = "changed"
	// StateMerged: a range of a split file whose rows load with another
	// range: its first, widened to the whole file (a range could not be
	// loaded on its own: a quoted newline at a split point, or a bad row
	// whose error should name its true line), or one an earlier run of the
	// load recorded in another layout of ranges.
	StateMerged FileState = "merged"
)

// Terminal reports whether no more work will happen on a file in state s.
func (s FileState) Terminal() bool {
	return s == StateLoaded || s == StateFailed || s == StateChanged || s == StateMerged
}

// FileRecord is the durable state of one listed file, kept in the load's
// key-value bucket under the file's token.
type FileRecord struct {
	V      int    `json:"v"`
	LoadID string `json:"load_id"`
	Table  string `json:"table"`
	Source Source `json:"source"`
	// Range is set on each record of a split file: one record per range.
	Range *Range    `json:"range,omitempty"`
	State FileState `json:"state"`
	// From is the committed part the file's rows are copied from, for a
	// file a load reuses from a part it rewrites (TaskFile.From). A worker
	// that reads the file from the source instead (the part is gone)
	// records it empty: the load then counts the file as loaded, not
	// reused.
	From string `json:"from,omitempty"`
	// Part is the output file's path relative to the table directory.
	Part string `json:"part,omitempty"`
	// PartFiles is how many files' rows the part holds (1, or a batch's
	// size): the part may be committed only if every one of them is
	// recorded loaded into it.
	PartFiles int `json:"part_files,omitempty"`
	// Rows are this file's rows; Bytes is the size of its part.
	Rows  int64 `json:"rows,omitempty"`
	Bytes int64 `json:"bytes,omitempty"`
	// Stats describe the part for a table format's metadata, so a commit
	// reads no part again; every record of a batch part carries the same.
	Stats *PartStats `json:"stats,omitempty"`
	// Rejected counts the rows skipped under on_error: skip_row; Rejects
	// is the reject table's part that holds them.
	Rejected int64        `json:"rejected,omitempty"`
	Rejects  *RejectsPart `json:"rejects,omitempty"`
	Error    string       `json:"error,omitempty"`
	// Kept, on a record read back from the store, is the token of the kept
	// record it stands in (see KeptRecord): such a file has no record of
	// its own until the store unkeeps it. Never stored.
	Kept string `json:"-"`
	// Attempts counts claims: attempts that started. One that never ends
	// (its worker died) still counts, so a file that kills its workers
	// stops being handed out.
	Attempts int    `json:"attempts,omitempty"`
	Worker   string `json:"worker,omitempty"`
	// FailingSince is when the file's current run of passing failures
	// (network, 5xx, throttling) began; they are retried until the retry
	// budget has passed since then. Zero when the last attempt did not fail
	// that way.
	FailingSince time.Time `json:"failing_since,omitzero"`
	Updated      time.Time `json:"updated"`
}

// Token is the record's key token.
func (f FileRecord) Token() string { return RecordToken(f.Source, f.Range) }

// LoadState is where a whole load stands.
type LoadState string

const (
	// LoadRunning: open; a coordinator carries it, or will resume it.
	LoadRunning LoadState = "running"
	// LoadIncomplete: it ended with some table not committed. The next run
	// finishes it: only files that did not load are tried again.
	LoadIncomplete LoadState = "incomplete"
	// LoadCompleted: every table committed; the next run is a new load.
	LoadCompleted LoadState = "completed"
	// LoadAbandoned: replaced by a new load before it finished (a full
	// reload was asked for).
	LoadAbandoned LoadState = "abandoned"
)

// Open reports whether a load in state s is to be carried on by the next
// coordinator of its job.
func (s LoadState) Open() bool { return s == LoadRunning || s == LoadIncomplete }

// LoadRecord is the durable state of one load of one job.
type LoadRecord struct {
	V       int       `json:"v"`
	LoadID  string    `json:"load_id"`
	Job     string    `json:"job"`
	State   LoadState `json:"state"`
	Started time.Time `json:"started"`
	// Ended is when the load last reached its end, committed or not.
	Ended time.Time `json:"ended,omitzero"`
	// Tables sums up each table's outcome when the load ends.
	Tables []TableSummary `json:"tables,omitempty"`
}

// TableSummary is one table's outcome in a load record.
type TableSummary struct {
	Table     string `json:"table"`
	Committed bool   `json:"committed"`
	Files     int    `json:"files"`
	Loaded    int    `json:"loaded"`
	Failed    int    `json:"failed"`
	Changed   int    `json:"changed"`
	Rows      int64  `json:"rows"`
	Bytes     int64  `json:"bytes"`
	Error     string `json:"error,omitempty"`
	// Reused counts files kept from an earlier run of the load; Rejected
	// the rows skipped into the reject table.
	Reused   int   `json:"reused,omitempty"`
	Rejected int64 `json:"rejected,omitempty"`
	// Snapshot is the table format's snapshot the commit made (Iceberg).
	Snapshot string `json:"snapshot,omitempty"`
}

// TableRecord is the durable state of one table within a load.
type TableRecord struct {
	V      int    `json:"v"`
	LoadID string `json:"load_id"`
	Table  string `json:"table"`
	// Schema is the table's Arrow IPC schema, fixed once per load: files
	// are decoded into it.
	Schema []byte `json:"schema,omitempty"`
	// WriteSchema, when set, is the Arrow IPC schema parts are written in:
	// the table format's types and field IDs (Iceberg), which decoded
	// batches are converted to. Empty: parts are written in Schema.
	WriteSchema []byte `json:"write_schema,omitempty"`
	// Base is where the target table stood when this load began (a table
	// format's snapshot, opaque here): a commit refuses a table that moved
	// since, so a stale load never replaces a newer one.
	Base string `json:"base,omitempty"`
	// SchemaChanges say how this load changes the table's schema, for the
	// report.
	SchemaChanges []string `json:"schema_changes,omitempty"`
	// Preflight is how Schema was decided from the table's files.
	Preflight *Preflight `json:"preflight,omitempty"`
	// Rejects, under on_error: skip_row, is how the table's reject table
	// is written.
	Rejects *RejectsPlan `json:"rejects,omitempty"`
	// Listed is set once every file of the table has been recorded and
	// published; until then a restarted coordinator lists again.
	Listed bool `json:"listed"`
	Files  int  `json:"files"`
	// Records counts the file records: Files plus the extra ranges of
	// split files.
	Records   int       `json:"records,omitempty"`
	Skipped   int       `json:"skipped"`
	Committed bool      `json:"committed"`
	Error     string    `json:"error,omitempty"`
	Updated   time.Time `json:"updated"`
}

// WorkerRecord is a worker's announcement of itself, written when it starts
// and again every heartbeat: who it is, which job's config it runs, and
// what it holds. A record not renewed for the queue's ack wait is a worker
// gone.
type WorkerRecord struct {
	V       int       `json:"v"`
	ID      string    `json:"id"`
	Job     string    `json:"job"`
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Version string    `json:"version"`
	Slots   int       `json:"slots"`
	Started time.Time `json:"started"`
	Updated time.Time `json:"updated"`
	// Spec is the job as this worker's config describes it, to name the
	// differences when it does not match the coordinator's.
	Spec JobSpec `json:"spec"`
	// Paused says why the worker takes no task now (the store keeps
	// failing); "" while it works.
	Paused  string    `json:"paused,omitempty"`
	Holding []Holding `json:"holding,omitempty"`
}

// Holding is one file a worker is loading and how far it got.
type Holding struct {
	LoadID string    `json:"load_id"`
	Table  string    `json:"table"`
	Token  string    `json:"token"`
	Key    string    `json:"key"`
	Bytes  int64     `json:"bytes"`
	Rows   int64     `json:"rows"`
	Since  time.Time `json:"since"`
}

// LeaseRecord is the coordinator lease of one job: only its holder carries
// the job's load; it is renewed well within its time to live, and a standby
// coordinator takes it over once it stops changing.
type LeaseRecord struct {
	V        int       `json:"v"`
	Job      string    `json:"job"`
	Holder   string    `json:"holder"`
	Host     string    `json:"host"`
	PID      int       `json:"pid"`
	Acquired time.Time `json:"acquired"`
	Renewed  time.Time `json:"renewed"`
	LoadID   string    `json:"load_id,omitempty"`
	// Spec is the job as the coordinator's config describes it, so workers
	// of another config can name what differs.
	Spec JobSpec `json:"spec"`
}
