package coordinator

import (
	"context"
	"errors"
	"time"

	"github.com/s3load/s3load/messages"
)

// Lister lists the objects below a prefix whose keys come after startAfter,
// a page at a time, in key order.
type Lister interface {
	List(ctx context.Context, bucket, prefix, startAfter string, fn func(page []messages.Source) error) error
	// IsPermanent reports whether err is a problem only a person can fix
	// (credentials, permissions, a missing bucket, a wrong region): it is
	// not retried, and it ends the table it happened to.
	IsPermanent(err error) bool
}

// PrefixSuggester is what a Lister may also do: name an existing prefix
// close to one that matched nothing, for the error that says so.
type PrefixSuggester interface {
	SuggestPrefix(ctx context.Context, bucket, prefix string) (string, error)
}

// Prober infers a table's schema from one of its files and returns it
// encoded for tasks. An error that is the file's own fault (malformed, or
// changed since it was listed) is marked with BadFile; any other error (a
// dropped connection, throttling) is taken as passing, and the probe is
// retried.
type Prober interface {
	ProbeSchema(ctx context.Context, table string, src messages.Source) ([]byte, error)
}

// ErrBadFile marks a Prober error that trying the same file again cannot
// help: the schema is sought in the next file instead. Wrap with BadFile.
var ErrBadFile = errors.New("file gives no schema")

// BadFile marks err as the file's own fault (errors.Is(err, ErrBadFile))
// without changing its message.
func BadFile(err error) error { return badFile{err} }

type badFile struct{ err error }

func (b badFile) Error() string        { return b.err.Error() }
func (b badFile) Unwrap() error        { return b.err }
func (b badFile) Is(target error) bool { return target == ErrBadFile }

// SchemaGroup is one distinct schema among a table's files, and how many
// files have it.
type SchemaGroup struct {
	Schema []byte
	Files  int
}

// MergedSchema is a table's schema decided from its files' schemas.
type MergedSchema struct {
	Schema []byte
	// Misfits holds, per group, why its files do not fit Schema ("" where
	// they do), naming each differing column and the config that would
	// make them fit.
	Misfits []string
	// Widened says per column how the files' types were widened.
	Widened []string
	// Dialect is the CSV dialect the files are read in, if detected.
	Dialect string
}

// SchemaMerger decides a table's schema from the distinct schemas of its
// files and its declared schema (nil if none), under the table's policy.
type SchemaMerger interface {
	MergeSchemas(ctx context.Context, table string, declared []byte, groups []SchemaGroup) (MergedSchema, error)
}

// Queue is the work queue: tasks go on it; the coordinator checks that
// it still holds what it should.
type Queue interface {
	// Publish puts tasks on the queue and returns once all are stored; the
	// same task ID twice within the queue's duplicate window is published
	// once.
	Publish(ctx context.Context, tasks ...messages.Task) error
	// Ensure checks that the queue exists, creating what is missing, and
	// returns its generation: a new value means a new queue, whose tasks
	// were lost with the old one.
	Ensure(ctx context.Context) (generation time.Time, err error)
	// Backlog counts a table's tasks not yet acknowledged, waiting or in
	// work.
	Backlog(ctx context.Context, table string) (int, error)
}

// FileEvent is one change of a table's file records seen by WatchFiles.
type FileEvent struct {
	// Record and Revision are the record now; zero for a deletion and for
	// the end-of-current marker.
	Record   messages.FileRecord
	Revision uint64
	// Token is the record's key token.
	Token string
	// Deleted: the record was deleted or purged from the store.
	Deleted bool
	// Current: every record that existed when the watch began has been
	// sent (the marker itself has no token).
	Current bool
}

// StateStore holds the load's durable records. Writes are compare-and-set on
// a revision (0 = create) and fail with messages.ErrConflict on a race, and
// with messages.ErrTooLarge for a record the store cannot hold.
type StateStore interface {
	Load(ctx context.Context, job string) (messages.LoadRecord, uint64, error)
	PutLoad(ctx context.Context, rec messages.LoadRecord, rev uint64) (uint64, error)
	Table(ctx context.Context, load, table string) (messages.TableRecord, uint64, error)
	PutTable(ctx context.Context, rec messages.TableRecord, rev uint64) (uint64, error)
	File(ctx context.Context, load, table, token string) (messages.FileRecord, uint64, error)
	PutFile(ctx context.Context, rec messages.FileRecord, rev uint64) (uint64, error)
	DeleteFile(ctx context.Context, load, table, token string) error
	// CreateFiles creates many file records at once and returns each one's
	// revision, or 0 where the record already existed.
	CreateFiles(ctx context.Context, recs []messages.FileRecord) ([]uint64, error)
	// Files returns every file record of a table now.
	Files(ctx context.Context, load, table string) ([]messages.FileRecord, error)
	// Probes returns the probe tasks' findings of a table's pre-flight.
	// after is a revision Probes returned before (0: none): only records
	// stored since are returned, so a big table's findings are read once
	// each, not again at every read; the revision to pass next comes back.
	// If none is there yet, Probes waits up to wait for the next stored,
	// and returns it as soon as it is.
	Probes(ctx context.Context, load, table string, after uint64, wait time.Duration) ([]messages.ProbeRecord, uint64, error)
	// WatchFiles calls fn with each current record of the table, then with
	// a Current marker, then with each change, deletions included.
	WatchFiles(ctx context.Context, load, table string, fn func(FileEvent) error) error
	// DropLoad removes the table and file records of a load that ended.
	DropLoad(ctx context.Context, load string) error
	// Ensure checks that the store exists, creating it if missing, and
	// returns its generation: a new value means a new store, every record
	// of the old one lost.
	Ensure(ctx context.Context) (generation time.Time, err error)
}

// KeptStore is what a StateStore may also do: record the files of a
// committed part a load keeps in one record (messages.KeptRecord), not one
// per file. Files and WatchFiles then return each as a loaded file record
// whose Kept names its kept record, and a file's own record, if it has
// one, wins over its kept one. Before acting on such a file alone
// (resetting or removing its record), the coordinator unkeeps it.
type KeptStore interface {
	// CreateKept creates kept records; one that exists is left as it is.
	CreateKept(ctx context.Context, recs []messages.KeptRecord) error
	// Unkeep turns the kept record under token into file records of their
	// own, as loaded as before, and removes it; one unkept already is no
	// error.
	Unkeep(ctx context.Context, load, table, token string) error
}

// HistoryStore keeps the job's loads that ended, beyond the one load the
// StateStore holds, so that `s3load history` outlives the next load.
type HistoryStore interface {
	// PutHistory records rec as its load's entry in the job's history,
	// replacing an earlier entry of the same load (a load finished later);
	// only the most recent loads are kept.
	PutHistory(ctx context.Context, rec messages.LoadRecord) error
}

// TableCommit is one load's commit of a table as the table's own metadata
// records it (an Iceberg snapshot's summary, a plain table's manifest):
// what survives the loss of the state store.
type TableCommit struct {
	Table  string
	LoadID string
	// Job is the job that committed it, where the metadata says.
	Job       string
	Committed time.Time
	// Snapshot is the table format's snapshot ("" for plain Parquet);
	// Current says it is what the table reads now.
	Snapshot string
	Current  bool
	Rows     int64
	// Files counts the loaded files (Iceberg: file records, so each range
	// of a split file); Failed the files that failed or changed.
	Files    int
	Failed   int
	Rejected int64
}

// CommitLog reads the commits of s3load loads that a table's metadata
// still holds (Iceberg: the snapshots kept; plain Parquet: the current
// manifest), newest first; a table never committed has none.
type CommitLog interface {
	Commits(ctx context.Context, table string) ([]TableCommit, error)
}

// LeaseStore holds the job's coordinator lease; writes are compare-and-set
// like the StateStore's.
type LeaseStore interface {
	Lease(ctx context.Context, job string) (messages.LeaseRecord, uint64, error)
	PutLease(ctx context.Context, rec messages.LeaseRecord, rev uint64) (uint64, error)
	DeleteLease(ctx context.Context, job string, rev uint64) error
}

// Fleet tells which workers are alive ("*": of every job) and what they
// hold.
type Fleet interface {
	Workers(ctx context.Context, job string) ([]messages.WorkerRecord, error)
}

// CommitRequest is everything a target needs to commit one table.
type CommitRequest struct {
	Table  string
	LoadID string
	Schema []byte
	// WriteSchema and Base are what Prepare returned when the load began.
	WriteSchema []byte
	Base        string
	Loaded      []messages.FileRecord
	Failed      []messages.FileRecord
	// Fingerprint says what decides the table's rows besides its files
	// (see Fingerprint); stored with the commit, so the next load knows
	// whether this one's parts can be reused.
	Fingerprint string
	// ListSplits are where the next load's listing is cut into ranges
	// listed at once (see listSplits), for a table format that keeps them
	// where a SplitsReader finds them cheaply.
	ListSplits []string
}

// CommitResult is what a commit made, for the report.
type CommitResult struct {
	Manifest messages.Manifest
	// Snapshot and MetadataLocation name a table format's new snapshot
	// (Iceberg), for engines that are pointed at it; empty otherwise.
	Snapshot         string
	MetadataLocation string
}

// PrepareRequest asks a table format how a load of Schema will be written.
type PrepareRequest struct {
	Table  string
	LoadID string
	Schema []byte
}

// Prepared is a table format's answer, recorded with the table's load.
type Prepared struct {
	// WriteSchema is the schema parts are written in (nil: Schema itself).
	WriteSchema []byte
	// Base is where the table stands now; the commit refuses a table that
	// moved since.
	Base string
	// Changes say how the load changes the table's schema.
	Changes []string
}

// Committer makes a table's loaded parts the table, atomically: a reader
// sees the previous commit or this one, never a mix. A commit whose parts
// are not all there fails with a *PartsError naming them.
type Committer interface {
	// Prepare settles, once per load before any file is published, the
	// schema parts are written in and where the table stands (plain
	// Parquet: nothing). A schema the format cannot hold fails here,
	// before anything is read.
	Prepare(ctx context.Context, req PrepareRequest) (Prepared, error)
	Commit(ctx context.Context, req CommitRequest) (CommitResult, error)
	IsPermanent(err error) bool
}

// PartsError says which parts a commit found missing or wrong: the files
// recorded in them are loaded again rather than the table failing on every
// run.
type PartsError struct {
	Parts []string // paths relative to the table, as records name them
	Err   error
}

func (e *PartsError) Error() string { return e.Err.Error() }
func (e *PartsError) Unwrap() error { return e.Err }

// TableOwner names who loads a table: the job and load, and a holder for
// people.
type TableOwner struct {
	Job, Load, Holder string
}

// TableLocker gives one load at a time a table, across processes and NATS
// servers: the lock lives in the target. Acquiring a table another load
// holds fails with an error wrapping ErrTableBusy that says who holds it.
type TableLocker interface {
	LockTable(ctx context.Context, table string, owner TableOwner) (TableLock, error)
	// Sweep removes what earlier loads of table left in the staging area,
	// except the committed load and keep.
	Sweep(ctx context.Context, table string, keep ...string) error
}

// TableLock is a held table; renew it well within TableLockTTL.
type TableLock interface {
	Renew(ctx context.Context) error
	Release(ctx context.Context) error
}

// Errors of a TableLocker.
var (
	// ErrTableBusy: another load holds the table.
	ErrTableBusy = errors.New("table is being loaded by another load")
	// ErrTableLockLost: another load took the table over; stop writing it.
	ErrTableLockLost = errors.New("table lock lost to another load")
)

// TableLockTTL is how long a table lock lasts without renewal: a load that
// died releases its tables this long after its last renewal.
const TableLockTTL = 2 * time.Minute

// Ports are the adapters a coordinator works through. Locker, Fleet and
// History may be nil (no table locks; every unfinished file is taken as
// unheld; no history kept).
type Ports struct {
	Lister    Lister
	Prober    Prober
	Merger    SchemaMerger
	Queue     Queue
	State     StateStore
	Leases    LeaseStore
	Fleet     Fleet
	Committer Committer
	Locker    TableLocker
	// ProgressStore, if set, gets the load's progress every
	// ProgressInterval, for `s3load status` on other hosts.
	ProgressStore ProgressStore
	// History, if set, keeps each ended load for `s3load history`.
	History HistoryStore
	// Reuse, if set, lets a new load keep the parts of unchanged files
	// from the table's committed load instead of loading them again.
	Reuse Reuser
	// Splits, if set, tells where the table's committed load cut its
	// listing, so a new load lists from its start, beside the lock, its
	// records and the read of the committed load; without it the listing
	// waits for that read to learn where to cut.
	Splits SplitsReader
}

func (p Ports) validate() error {
	if p.Lister == nil || p.Prober == nil || p.Merger == nil || p.Queue == nil || p.State == nil || p.Leases == nil || p.Committer == nil {
		return errors.New("coordinator: Lister, Prober, Merger, Queue, State, Leases and Committer are required")
	}
	return nil
}

// ProgressStore keeps the load's live progress where status readers on
// other hosts find it. Writing it is best effort: a load never waits on it.
type ProgressStore interface {
	PutProgress(ctx context.Context, rec messages.ProgressRecord) error
}

// PreviousFile is one source file of a table's committed load and the
// part that holds its rows.
type PreviousFile struct {
	Source messages.Source
	// Part is the part's path relative to the table, as records name it;
	// PartFiles is how many source files it holds.
	Part      string
	PartFiles int
	Rows      int64
	// Bytes is the part's size.
	Bytes int64
	// PartRows is how many rows the part file holds, those of files an
	// earlier load masked included (see PreviousLoad.Masks); 0 when not
	// known.
	PartRows int64
}

// PreviousLoad is what a table's committed load left that a new load may
// reuse: its fingerprint (see Fingerprint) and its loaded files. Only
// whole files are listed: a split file's ranges are not reused.
type PreviousLoad struct {
	LoadID      string
	Fingerprint string
	// Schema is the table schema the load decided, as CommitRequest.Schema
	// gave it: the schema of its reused files, which the next pre-flight
	// does not read again.
	Schema []byte
	Files  []PreviousFile
	// Masks says the table format can hide a kept part's rows of files that
	// changed or are gone (Iceberg position deletes), so such a part stays
	// as it is instead of being rewritten from its other files' rows.
	Masks bool
}

// CommittedLoads reads what a table's committed load holds.
type CommittedLoads interface {
	PreviousLoad(ctx context.Context, table string) (PreviousLoad, error)
}

// SplitsReader reads the ListSplits a table's committed load was committed
// with, without reading the load's files: nil when there are none. They
// are a hint for listing faster, never trusted for what is listed.
type SplitsReader interface {
	ListSplits(ctx context.Context, table string) ([]string, error)
}

// Reuser lets a load keep the rows of files its table's committed load
// already holds, read from the table's own metadata (so it survives a lost
// state store). A table never committed, or committed without what reuse
// needs, has a zero PreviousLoad and no error.
type Reuser interface {
	CommittedLoads
	// ReusePart makes a committed part (a path as PreviousFile names it)
	// part of load, and returns the path the load's records name it by:
	// the same path where the table format references files across
	// snapshots (Iceberg), a link or copy in the load otherwise.
	ReusePart(ctx context.Context, table, load, part string) (string, error)
}
