// Package messages owns the wire types that the coordinator, the workers and
// the load's durable state share: tasks on the work queue, per-file records in
// the key-value store, and the table manifest. It imports only the standard
// library so that any process, or another language, can speak it.
//
// Every top-level type carries a version field V. Decoders reject versions
// they do not know rather than guess at fields.
package messages

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Version is the wire version this package writes and the only one it reads.
const Version = 1

// ErrVersion reports a message written by an incompatible version.
var ErrVersion = errors.New("unsupported message version")

// Source identifies one object of the source bucket as it was listed.
type Source struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	ETag   string `json:"etag"`
	Size   int64  `json:"size"`
}

// Token is a short, subject- and key-safe name for the object's key: object
// keys may hold dots, spaces, '*' or '>' and must never become NATS tokens raw.
func (s Source) Token() string { return hashHex(32, s.Bucket, s.Key) }

// Identity names this version of the object: the same key with a new ETag is
// a different identity, so its output part gets a different name.
func (s Source) Identity() string { return hashHex(32, s.Bucket, s.Key, s.ETag) }

// String names the object for people: s3://bucket/key.
func (s Source) String() string { return "s3://" + s.Bucket + "/" + s.Key }

// DedupID is the JetStream message ID of the task that loads src in load:
// publishing the same file twice within the stream's duplicate window is a
// no-op.
func DedupID(loadID string, src Source) string {
	return hashHex(40, loadID, src.Bucket, src.Key, src.ETag)
}

// TaskID is the message ID of a task loading files in load: DedupID for one
// file, and for a batch a hash of every file's identity, so the same batch
// published twice is one task.
func TaskID(loadID string, files []TaskFile) string {
	if len(files) == 1 && files[0].Range == nil {
		return DedupID(loadID, files[0].Source)
	}
	parts := make([]string, 0, len(files)+1)
	parts = append(parts, loadID)
	for _, f := range files {
		parts = append(parts, f.Source.Identity())
		if f.Range != nil {
			parts = append(parts, fmt.Sprintf("range %d of %d", f.Range.Index, f.Range.Count))
		}
	}
	return hashHex(40, parts...)
}

// BatchPartName names the part holding the rows of several files: a hash of
// their identities, so loading the same set again rewrites the same part
// rather than adding a second copy of their rows.
func BatchPartName(srcs []Source) string {
	ids := make([]string, len(srcs))
	for i, s := range srcs {
		ids[i] = s.Identity()
	}
	return "batch-" + hashHex(32, ids...) + ".parquet"
}

// PartName names the part holding one file's rows (or one range of them);
// a redelivered task writes the same name, so it replaces its part instead
// of adding one.
func PartName(src Source, r *Range) string {
	if r != nil {
		return fmt.Sprintf("part-%s-%dof%d.parquet", src.Identity(), r.Index+1, r.Count)
	}
	return "part-" + src.Identity() + ".parquet"
}

// Range is one of Count byte ranges a big file is split into, loaded by its
// own task into its own part. A text range owns the lines that start in
// [Start, End); a Parquet range owns the row groups whose middle byte is in
// it. Either way the ranges of a file cover each row exactly once.
type Range struct {
	Index int   `json:"index"`
	Count int   `json:"count"`
	Start int64 `json:"start"`
	End   int64 `json:"end"`
}

// RecordToken is the key token of the record of src, or of one range of it.
func RecordToken(src Source, r *Range) string {
	if r != nil {
		return src.Token() + "-" + strconv.Itoa(r.Index)
	}
	return src.Token()
}

// Token is the record's key token.
func (f FileRecord) Token() string { return RecordToken(f.Source, f.Range) }

func hashHex(n int, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		// Length-prefix each part so ("ab","c") and ("a","bc") differ.
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))[:n]
}

// Task asks a worker to load source files into one part of their table's
// staging area: one file, or a batch of small files whose per-file costs
// (a queue message, a part, an fsync) would otherwise dwarf their data.
type Task struct {
	V int `json:"v"`
	// ID is the task's message ID on the queue: TaskID, plus a suffix when
	// a stalled table publishes its unfinished tasks again.
	ID     string     `json:"id"`
	LoadID string     `json:"load_id"`
	Table  string     `json:"table"`
	Files  []TaskFile `json:"files"`
	// Schema is the table's schema as an Arrow IPC schema message; every file
	// of the table is decoded into it.
	Schema []byte `json:"schema"`
}

// TaskFile is one file of a task.
type TaskFile struct {
	Source Source `json:"source"`
	// Range, when set, is the part of a big file this task loads.
	Range *Range `json:"range,omitempty"`
	// Revision is the file record's revision when the task was published,
	// so a first delivery can claim the file without reading it first.
	Revision uint64 `json:"revision,omitempty"`
}

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
	// StateMerged: a range of a split file whose rows load with its first
	// range instead, which was widened to the whole file (a range could not
	// be loaded on its own: a quoted newline at a split point, or a bad row
	// whose error should name its true line).
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
	// Part is the output file's path relative to the table directory.
	Part string `json:"part,omitempty"`
	// PartFiles is how many files' rows the part holds (1, or a batch's
	// size): the part may be committed only if every one of them is
	// recorded loaded into it.
	PartFiles int `json:"part_files,omitempty"`
	// Rows are this file's rows; Bytes is the size of its part.
	Rows     int64     `json:"rows,omitempty"`
	Bytes    int64     `json:"bytes,omitempty"`
	Error    string    `json:"error,omitempty"`
	Attempts int       `json:"attempts,omitempty"`
	Worker   string    `json:"worker,omitempty"`
	Updated  time.Time `json:"updated"`
}

// LoadState is where a whole load stands.
type LoadState string

const (
	LoadListing   LoadState = "listing"
	LoadRunning   LoadState = "running"
	LoadCompleted LoadState = "completed"
)

// LoadRecord is the durable state of one load of one job.
type LoadRecord struct {
	V       int       `json:"v"`
	LoadID  string    `json:"load_id"`
	Job     string    `json:"job"`
	State   LoadState `json:"state"`
	Started time.Time `json:"started"`
}

// TableRecord is the durable state of one table within a load.
type TableRecord struct {
	V      int    `json:"v"`
	LoadID string `json:"load_id"`
	Table  string `json:"table"`
	// Schema is the table's Arrow IPC schema, fixed once per load.
	Schema []byte `json:"schema,omitempty"`
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
}

// Marshal encodes any message of this package, stamping the current version.
func Marshal[T Task | FileRecord | LoadRecord | TableRecord | Manifest](m T) ([]byte, error) {
	switch v := any(&m).(type) {
	case *Task:
		v.V = Version
	case *FileRecord:
		v.V = Version
	case *LoadRecord:
		v.V = Version
	case *TableRecord:
		v.V = Version
	case *Manifest:
		v.V = Version
	}
	return json.Marshal(m)
}

// Unmarshal decodes a message of this package and rejects unknown versions.
func Unmarshal[T Task | FileRecord | LoadRecord | TableRecord | Manifest](data []byte) (T, error) {
	var m T
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("decoding %T: %w", m, err)
	}
	var v int
	switch x := any(m).(type) {
	case Task:
		v = x.V
	case FileRecord:
		v = x.V
	case LoadRecord:
		v = x.V
	case TableRecord:
		v = x.V
	case Manifest:
		v = x.V
	}
	if v != Version {
		return m, fmt.Errorf("decoding %T: version %d: %w", m, v, ErrVersion)
	}
	return m, nil
}

// Errors of the load's state store, shared by every implementation so the
// coordinator and workers can branch on them.
var (
	// ErrNotFound: no record under that key.
	ErrNotFound = errors.New("record not found")
	// ErrConflict: the record changed since it was read (or already exists,
	// for a create). The writer lost a race and must re-read.
	ErrConflict = errors.New("record changed concurrently")
)
