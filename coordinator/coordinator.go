// Package coordinator owns the policy of a full load: which files belong to
// which table, publishing one task per file, reconciling every listed file to
// a final state from the durable records, and committing each table whole or
// not at all. The object store, the queue, the state store and the table
// target are small interfaces that adapters under internal/ implement.
package coordinator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/s3load/s3load/messages"
)

// Lister lists the objects below a prefix whose keys come after startAfter,
// a page at a time, in key order.
type Lister interface {
	List(ctx context.Context, bucket, prefix, startAfter string, fn func(page []messages.Source) error) error
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

// Publisher puts tasks on the work queue and returns once all are stored;
// the same task ID twice within the queue's duplicate window is published
// once.
type Publisher interface {
	Publish(ctx context.Context, tasks ...messages.Task) error
}

// StateStore holds the load's durable records. Writes are compare-and-set on
// a revision (0 = create) and fail with messages.ErrConflict on a race.
type StateStore interface {
	Load(ctx context.Context, job string) (messages.LoadRecord, uint64, error)
	PutLoad(ctx context.Context, rec messages.LoadRecord, rev uint64) (uint64, error)
	Table(ctx context.Context, load, table string) (messages.TableRecord, uint64, error)
	PutTable(ctx context.Context, rec messages.TableRecord, rev uint64) (uint64, error)
	File(ctx context.Context, load, table, token string) (messages.FileRecord, uint64, error)
	PutFile(ctx context.Context, rec messages.FileRecord, rev uint64) (uint64, error)
	// CreateFiles creates many file records at once and returns each one's
	// revision, or 0 where the record already existed.
	CreateFiles(ctx context.Context, recs []messages.FileRecord) ([]uint64, error)
	// WatchFiles calls fn with each current record of the table, then once
	// with a zero record and current=true, then with each change.
	WatchFiles(ctx context.Context, load, table string, fn func(rec messages.FileRecord, current bool) error) error
}

// CommitRequest is everything a target needs to commit one table.
type CommitRequest struct {
	Table  string
	LoadID string
	Schema []byte
	Loaded []messages.FileRecord
	Failed []messages.FileRecord
}

// Committer makes a table's loaded parts the table, atomically: a reader
// sees the previous commit or this one, never a mix.
type Committer interface {
	Commit(ctx context.Context, req CommitRequest) (messages.Manifest, error)
}

// Table is one table of the job.
type Table struct {
	Name   string
	Prefix string
	// Match filters keys relative to Prefix; nil matches all.
	Match func(rel string) bool
	// Schema is the declared schema, encoded for tasks; nil: probe a file.
	Schema []byte
}

// Config configures a Coordinator.
type Config struct {
	// Job identifies what is loaded (source, tables, target); a restarted
	// coordinator with the same Job resumes the job's open load.
	Job    string
	Bucket string
	Tables []Table
	// MaxFailedFiles per table: more failed or changed files than this and
	// the table is not committed.
	MaxFailedFiles int
	// SkipReason says why a key is not a data file ("" = load it).
	SkipReason func(key string, size int64) string
	// StallTimeout: when no file of a table changes state for this long, its
	// unfinished tasks are published again (a queue that lost messages must
	// not hang the load).
	StallTimeout time.Duration
	// TableConcurrency bounds tables listed and reconciled at once.
	TableConcurrency int
	// RetryFor bounds how long one write to the queue or state store is
	// retried before the load gives up (and stays open to be resumed).
	RetryFor time.Duration
	// BatchFiles is how many small files one task loads into one part
	// (default 64; 1 loads every file on its own). Per file, a task costs a
	// queue message, a Parquet part and an fsync, which for a 10 KB file
	// outweigh its data.
	BatchFiles int
	// SmallFileBytes: files up to this size are batched (default 1 MiB).
	SmallFileBytes int64
	// SplitBytes: a file larger than this, if Splittable says it can be,
	// is split into ranges of about this size, each its own task, so one
	// big file is not one worker's problem (default 256 MiB; negative: never).
	SplitBytes int64
	// Splittable says whether a file of a table (with its schema, as
	// encoded for tasks) should be loaded by byte ranges: its format allows
	// it (not compressed, not a JSON array) and nothing faster is on offer
	// (a Parquet file already in the table's columns is copied whole).
	// nil: no file is split.
	Splittable func(ctx context.Context, table string, schema []byte, src messages.Source) bool
	Logger     *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.SkipReason == nil {
		c.SkipReason = func(string, int64) string { return "" }
	}
	if c.StallTimeout == 0 {
		c.StallTimeout = 5 * time.Minute
	}
	if c.TableConcurrency == 0 {
		c.TableConcurrency = 4
	}
	if c.RetryFor == 0 {
		c.RetryFor = 5 * time.Minute
	}
	if c.BatchFiles == 0 {
		c.BatchFiles = 64
	}
	if c.SmallFileBytes == 0 {
		c.SmallFileBytes = 1 << 20
	}
	if c.SplitBytes == 0 {
		c.SplitBytes = 256 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.Job == "":
		return errors.New("coordinator: Job is required")
	case c.Bucket == "":
		return errors.New("coordinator: Bucket is required")
	case len(c.Tables) == 0:
		return errors.New("coordinator: at least one table is required")
	case c.BatchFiles < 1 || c.SmallFileBytes < 0:
		return errors.New("coordinator: BatchFiles must be positive and SmallFileBytes not negative")
	}
	return nil
}

// Coordinator runs full loads of one job.
type Coordinator struct {
	cfg       Config
	lister    Lister
	prober    Prober
	publisher Publisher
	state     StateStore
	committer Committer
}

// New checks cfg and returns a coordinator.
func New(cfg Config, l Lister, p Prober, pub Publisher, s StateStore, c Committer) (*Coordinator, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Coordinator{cfg: cfg, lister: l, prober: p, publisher: pub, state: s, committer: c}, nil
}

// Run carries the job's open load to its end (or starts a new one), and
// reports per table. A table that ends uncommitted (too many failed files,
// no readable file to infer a schema from) is in the report. An error means
// the load could not be carried through (the store or queue failed, ctx
// ended): the load stays open, and running again resumes it.
func (c *Coordinator) Run(ctx context.Context) (Report, error) {
	load, err := c.openLoad(ctx)
	if err != nil {
		return Report{}, err
	}
	log := c.cfg.Logger.With("load", load.LoadID)
	log.Info("load started", "tables", len(c.cfg.Tables), "resumed", time.Since(load.Started) > time.Second)

	report := Report{LoadID: load.LoadID, Tables: make([]TableReport, len(c.cfg.Tables))}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.cfg.TableConcurrency)
	for i, t := range c.cfg.Tables {
		g.Go(func() error {
			tr, err := c.runTable(gctx, load.LoadID, t, log.With("table", t.Name))
			if err != nil {
				return fmt.Errorf("table %s: %w", t.Name, err)
			}
			report.Tables[i] = tr
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return report, err
	}
	// Every table reached its end, committed or not: the next run is a new
	// load. Only an interrupted run leaves the load open to be resumed.
	if err := c.closeLoad(ctx, load); err != nil {
		return report, err
	}
	return report, nil
}

func newLoadID() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// openLoad returns the job's unfinished load, or records a new one.
func (c *Coordinator) openLoad(ctx context.Context) (messages.LoadRecord, error) {
	for {
		var rec messages.LoadRecord
		var rev uint64
		err := c.retry(ctx, "reading job "+c.cfg.Job, func() (err error) {
			rec, rev, err = c.state.Load(ctx, c.cfg.Job)
			return err
		})
		switch {
		case err == nil && rec.State != messages.LoadCompleted:
			return rec, nil
		case err != nil && !errors.Is(err, messages.ErrNotFound):
			return rec, fmt.Errorf("reading job %s: %w", c.cfg.Job, err)
		}
		next := messages.LoadRecord{LoadID: newLoadID(), Job: c.cfg.Job, State: messages.LoadRunning, Started: time.Now().UTC()}
		_, err = c.putLoad(ctx, next, rev)
		if errors.Is(err, messages.ErrConflict) {
			continue // another coordinator of this job just opened one: join it
		}
		if err != nil {
			return rec, fmt.Errorf("recording new load: %w", err)
		}
		return next, nil
	}
}

// closeLoad marks the load completed so the next run starts a fresh one.
func (c *Coordinator) closeLoad(ctx context.Context, load messages.LoadRecord) error {
	var rec messages.LoadRecord
	var rev uint64
	err := c.retry(ctx, "reading job "+c.cfg.Job, func() (err error) {
		rec, rev, err = c.state.Load(ctx, c.cfg.Job)
		return err
	})
	if err != nil {
		return fmt.Errorf("reading job %s: %w", c.cfg.Job, err)
	}
	if rec.LoadID != load.LoadID {
		return nil
	}
	rec.State = messages.LoadCompleted
	if _, err := c.putLoad(ctx, rec, rev); err != nil {
		return fmt.Errorf("closing load %s: %w", load.LoadID, err)
	}
	return nil
}

func relKey(prefix, key string) string { return strings.TrimPrefix(key, prefix) }
