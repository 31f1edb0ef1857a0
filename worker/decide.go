package worker

import (
	"math/rand/v2"
	"time"

	"github.com/s3load/s3load/messages"
)

// Kind classifies what happened to one attempt at a file.
type Kind int

const (
	// Loaded: the part is durable.
	Loaded Kind = iota
	// Changed: the object's ETag no longer matches the listing.
	Changed
	// Permanent: the file itself is bad, or something only a person can fix
	// (credentials, permissions, a full target): trying again cannot help.
	Permanent
	// Transient: the network, the store or this worker failed; try again.
	Transient
	// Throttled: the store asked us to slow down; try again later.
	Throttled
)

func (k Kind) String() string {
	return [...]string{"loaded", "changed", "permanent", "transient", "throttled"}[k]
}

// Outcome is the result of one attempt at a file.
type Outcome struct {
	Kind Kind
	Part string // path relative to the table's directory
	// PartFiles counts the files whose rows the part holds.
	PartFiles int
	Rows      int64 // this file's rows
	Bytes     int64 // the part's size
	// Stats describe the part for a table format (nil for plain Parquet).
	Stats *messages.PartStats
	// Rejected rows were skipped (on_error: skip_row) into Rejects, a part
	// of the table's reject table.
	Rejected int64
	Rejects  *messages.RejectsPart
	Err      error
	// Fetched: the file was read from the source although its task said to
	// copy its rows from a committed part (TaskFile.From).
	Fetched bool
	// Decode and Write are how long the part took to fetch and decode into,
	// and to finish and store (the same for every file of a batch); zero
	// for a part the loader did not write (adopted from an earlier try).
	Decode, Write time.Duration
}

// Policy bounds retries.
type Policy struct {
	// MaxDuration is how long a file keeps being retried after passing
	// failures (transient or throttled) before it fails: a time budget,
	// so that an outage of minutes is waited out instead of spending a
	// count of attempts in seconds.
	MaxDuration time.Duration
	// MaxAttempts caps attempts that never finished (their worker died or
	// hung): a file that kills every worker stops being handed out.
	MaxAttempts int
	Backoff     time.Duration
	MaxBackoff  time.Duration
}

// Defaults of Policy, and of a worker's timing.
const (
	DefaultMaxDuration       = 30 * time.Minute
	DefaultMaxAttempts       = 5
	DefaultBackoff           = time.Second
	DefaultMaxBackoff        = time.Minute
	DefaultHeartbeat         = 15 * time.Second
	DefaultNoProgressTimeout = 10 * time.Minute
)

// History is what is known of a file's earlier attempts.
type History struct {
	// Attempts counts attempts that started (claims), this one included;
	// passing failures that were recorded are not counted.
	Attempts int
	// FailingFor is how long the file's current run of passing failures
	// has lasted; 0 if the attempt before this one did not fail that way.
	FailingFor time.Duration
}

// Action is what happens to a task after an attempt.
type Action int

const (
	Ack Action = iota
	Retry
	Terminate
)

// Disposition is Decide's verdict: the action, the delay before a retry, and
// the file state to record.
type Disposition struct {
	Action Action
	Delay  time.Duration
	State  messages.FileState
	// CountsAttempt says whether this attempt stays counted in the
	// record's Attempts; passing failures are given back.
	CountsAttempt bool
	// Failing says the file is in a run of passing failures: the record
	// keeps (or starts) its FailingSince.
	Failing bool
	// OutOfTime is set when the file fails because the retry budget ran out.
	OutOfTime bool
}

// Decide is the one place that maps a file's outcome to ack, retry or
// terminate. It is pure: the same outcome, history and policy always give
// the same verdict (but for the delay's jitter).
func Decide(o Outcome, h History, p Policy) Disposition {
	switch o.Kind {
	case Loaded:
		return Disposition{Action: Ack, State: messages.StateLoaded, CountsAttempt: true}
	case Changed:
		return Disposition{Action: Terminate, State: messages.StateChanged, CountsAttempt: true}
	case Permanent:
		return Disposition{Action: Terminate, State: messages.StateFailed, CountsAttempt: true}
	}
	// Transient or throttled: retried until the budget is spent.
	if h.FailingFor >= p.MaxDuration {
		return Disposition{Action: Terminate, State: messages.StateFailed, OutOfTime: true}
	}
	floor := p.Backoff
	if o.Kind == Throttled {
		// Back off harder than for errors: the store is overloaded, not broken.
		floor *= 2
	}
	return Disposition{Action: Retry, Delay: backoff(h.FailingFor, floor, p.MaxBackoff), State: messages.StateListed, Failing: true}
}

// backoff grows with the time the file has been failing, which doubles it
// from one retry to the next without a counter, up to ceiling; full jitter
// spreads the retries of many files that failed together.
func backoff(failingFor, floor, ceiling time.Duration) time.Duration {
	d := min(max(failingFor, floor), ceiling)
	return d/2 + rand.N(d/2+1)
}
