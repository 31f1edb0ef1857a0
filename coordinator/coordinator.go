// Package coordinator owns the policy of a full load: which files belong to
// which table, publishing tasks, reconciling every listed file to a final
// state from the durable records, and committing each table whole or not at
// all. It also owns the rules that keep a load honest under real
// conditions: one coordinator per job (a lease, with standbys), one load
// per table (a lease in the target), queue state treated as transport
// (lost tasks and records are noticed and restored within a check
// interval), a table whose listing matches nothing failing instead of
// committing empty, and a load that did not commit being finished by the
// next run rather than started over.
//
// The object store, the queue, the state store and the target are small
// interfaces (ports.go) that adapters under internal/ implement; each port
// that meets the outside world says which of its errors only a person can
// fix (IsPermanent), and the coordinator stops retrying those at once.
package coordinator

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/s3load/s3load/messages"
)

// Table is one table of the job.
type Table struct {
	Name   string
	Prefix string
	// Glob is the pattern Match applies, for messages; "" matches all.
	Glob string
	// Match filters keys relative to Prefix; nil matches all.
	Match func(rel string) bool
	// Schema is the declared schema, encoded for tasks; nil: probe a file.
	Schema []byte
	// AllowEmpty lets the table commit empty when its listing matches no
	// file; otherwise that fails the table and keeps its previous commit.
	AllowEmpty bool
	// RejectsSchema is set for a table that skips bad rows (on_error:
	// skip_row): its reject table's schema, encoded. Each load replaces
	// the reject table with its own skipped rows.
	RejectsSchema []byte
	// MaxRejectedRows and MaxRejectedPercent bound the rows skipped across
	// the table (0: no bound): past them the table is not committed.
	MaxRejectedRows    int64
	MaxRejectedPercent float64
}

// Defaults of Config.
const (
	DefaultRetryFor         = 30 * time.Minute
	DefaultCheckInterval    = 10 * time.Second
	DefaultLeaseTTL         = 30 * time.Second
	DefaultWorkerTimeout    = time.Minute
	DefaultTableConcurrency = 4
	DefaultBatchFiles       = 64
	DefaultSmallFileBytes   = 1 << 20
	DefaultSplitBytes       = 256 << 20
	DefaultProbeLocalMax    = 64
	DefaultProbeTaskFiles   = 100
	DefaultProbeStall       = 2 * time.Minute
)

// Config configures a Coordinator. Zero values take the defaults.
type Config struct {
	// Job identifies what is loaded: Spec.ID(). A restarted coordinator of
	// the same job resumes the job's open load.
	Job  string
	Spec messages.JobSpec
	// Holder names this coordinator in the job's lease; Host and PID are
	// shown to whoever finds the lease taken.
	Holder string
	Host   string
	PID    int
	Bucket string
	Tables []Table
	// DecodeVersion names the decoders' behaviour (decode.Version): part
	// of each table's reuse fingerprint, so rows an older decoder made are
	// not kept by a load whose decoders would make other rows.
	DecodeVersion string
	// MaxFailedFiles per table: more failed or changed files than this and
	// the table is not committed.
	MaxFailedFiles int
	// SkipReason says why a key is not a data file ("" = load it).
	SkipReason func(key string, size int64) string
	// RetryFor bounds how long one operation on the store, the queue, the
	// state store or the target is retried after passing errors before the
	// table it serves fails (retry.max_duration).
	RetryFor time.Duration
	// CheckInterval is how often a table's queue and records are checked:
	// a task stream deleted or purged, records deleted, tasks lost are all
	// noticed and repaired within two intervals.
	CheckInterval time.Duration
	// LeaseTTL: a coordinator lease not renewed for this long is taken
	// over by a standby; it is renewed every third of it.
	LeaseTTL time.Duration
	// PrivateState says the state store serves this process alone (the
	// server `s3load run` embeds, in a directory it has locked): a lease
	// found there is an earlier process's that stopped without releasing
	// it (killed, crashed), and is taken at once instead of after LeaseTTL.
	PrivateState bool
	// WorkerTimeout: a worker announcement older than this is a worker gone
	// (the queue's ack wait).
	WorkerTimeout time.Duration
	// TableConcurrency bounds tables listed and reconciled at once.
	TableConcurrency int
	// BatchFiles is how many small files one task loads into one part
	// (1 loads every file on its own). Per file, a task costs a queue
	// message, a Parquet part and an fsync, which for a 10 KB file
	// outweigh its data.
	BatchFiles int
	// SmallFileBytes: files up to this size are batched.
	SmallFileBytes int64
	// SplitBytes: a file larger than this, if Splittable says it can be,
	// is split into ranges of about this size, each its own task, so one
	// big file is not one worker's problem (negative: never).
	SplitBytes int64
	// Splittable says whether a file of a table (with its schema, as
	// encoded for tasks) should be loaded by byte ranges. nil: no file is.
	Splittable func(ctx context.Context, table string, schema []byte, src messages.Source) bool
	// ProbeLocalMax: a table of more files than this has its pre-flight
	// spread over the workers as probe tasks of ProbeTaskFiles files each;
	// a smaller one is probed by the coordinator itself.
	ProbeLocalMax  int
	ProbeTaskFiles int
	// ProbeStall: when no probe task's findings have come for this long,
	// the coordinator probes the remaining files itself.
	ProbeStall time.Duration
	// FullReload starts a new load even when the job has one to finish,
	// loading every file again.
	FullReload bool
	Logger     *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.SkipReason == nil {
		c.SkipReason = func(string, int64) string { return "" }
	}
	c.RetryFor = cmp.Or(c.RetryFor, DefaultRetryFor)
	c.CheckInterval = cmp.Or(c.CheckInterval, DefaultCheckInterval)
	c.LeaseTTL = cmp.Or(c.LeaseTTL, DefaultLeaseTTL)
	c.WorkerTimeout = cmp.Or(c.WorkerTimeout, DefaultWorkerTimeout)
	c.TableConcurrency = cmp.Or(c.TableConcurrency, DefaultTableConcurrency)
	c.BatchFiles = cmp.Or(c.BatchFiles, DefaultBatchFiles)
	c.SmallFileBytes = cmp.Or(c.SmallFileBytes, DefaultSmallFileBytes)
	c.SplitBytes = cmp.Or(c.SplitBytes, DefaultSplitBytes)
	c.ProbeLocalMax = cmp.Or(c.ProbeLocalMax, DefaultProbeLocalMax)
	c.ProbeTaskFiles = cmp.Or(c.ProbeTaskFiles, DefaultProbeTaskFiles)
	c.ProbeStall = cmp.Or(c.ProbeStall, DefaultProbeStall)
	c.Holder = cmp.Or(c.Holder, "coordinator")
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
	case c.CheckInterval <= 0 || c.LeaseTTL <= 0 || c.RetryFor <= 0:
		return errors.New("coordinator: CheckInterval, LeaseTTL and RetryFor must be positive")
	}
	return nil
}

// Coordinator runs full loads of one job.
type Coordinator struct {
	cfg Config
	Ports
	progress tracker
}

// New checks cfg and the ports and returns a coordinator.
func New(cfg Config, p Ports) (*Coordinator, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	return &Coordinator{cfg: cfg, Ports: p}, nil
}
