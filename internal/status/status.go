// Package status owns reading a job's live status from the state store and
// rendering it as text or JSON: the load's progress as its coordinator last
// wrote it (or the load record's summaries when there is none), the workers
// alive and what each holds, and the coordinator holding the job's lease.
// `s3load status` and the status page both build on Read and Snapshot.
package status

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/messages"
)

// StaleAfter is how long a running load's progress record may go without
// an update before its coordinator counts as gone: three missed writes.
const StaleAfter = 3 * coordinator.ProgressInterval

// Reader is what Read needs of the state store; *natsq.State satisfies it.
// Each read returns messages.ErrNotFound (wrapped) when there is no record.
type Reader interface {
	Progress(ctx context.Context, job string) (messages.ProgressRecord, error)
	Workers(ctx context.Context, job string) ([]messages.WorkerRecord, error)
	Lease(ctx context.Context, job string) (messages.LeaseRecord, uint64, error)
	Load(ctx context.Context, job string) (messages.LoadRecord, uint64, error)
}

// Where a Snapshot's Progress comes from.
const (
	// FromProgress: the coordinator's live progress record.
	FromProgress = "progress"
	// FromLoad: the load record, with only its tables' summaries (a load
	// whose coordinator wrote no progress, or not yet).
	FromLoad = "load"
)

// Snapshot is a job's status at one moment. Its JSON form is what
// `s3load status --json` prints.
type Snapshot struct {
	Job string `json:"job"`
	// At is when the snapshot was read; every age below is relative to it.
	At time.Time `json:"at"`
	// Progress is the job's current or last load, nil when no load ever
	// ran. From says where it comes from (FromProgress or FromLoad).
	Progress *messages.ProgressRecord `json:"progress"`
	From     string                   `json:"from,omitempty"`
	// Stale is set when the load is running but its progress record has
	// not been written for more than StaleAfter: no coordinator carries
	// it now (it died, or was stopped); StaleSeconds is for how long.
	Stale        bool    `json:"stale"`
	StaleSeconds float64 `json:"stale_seconds,omitempty"`
	// Workers are the workers alive (announced within the worker
	// timeout), by ID; WorkersGone counts records older than that.
	Workers     []Worker `json:"workers"`
	WorkersGone int      `json:"workers_gone,omitempty"`
	// Coordinator is the holder of the job's lease; nil when none holds
	// it (no coordinator runs, or the last one ended and released it).
	Coordinator *Coordinator `json:"coordinator"`
}

// Worker is one live worker and the files it is loading.
type Worker struct {
	ID      string    `json:"id"`
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Version string    `json:"version,omitempty"`
	Slots   int       `json:"slots"`
	Started time.Time `json:"started"`
	// Updated is its last announcement; SeenSecondsAgo how long before At.
	Updated        time.Time `json:"updated"`
	SeenSecondsAgo float64   `json:"seen_seconds_ago"`
	// Paused says why the worker takes no task now; "" while it works.
	Paused  string `json:"paused,omitempty"`
	Holding []Held `json:"holding"`
}

// Held is one file a worker holds and how far it got.
type Held struct {
	LoadID string `json:"load_id"`
	Table  string `json:"table"`
	Key    string `json:"key"`
	// Bytes and Rows are read and decoded so far.
	Bytes int64     `json:"bytes"`
	Rows  int64     `json:"rows"`
	Since time.Time `json:"since"`
	// ForSeconds is how long it has been held, at At.
	ForSeconds float64 `json:"for_seconds"`
}

// Coordinator is the holder of a job's coordinator lease.
type Coordinator struct {
	Holder   string    `json:"holder"`
	Host     string    `json:"host"`
	PID      int       `json:"pid"`
	LoadID   string    `json:"load_id,omitempty"`
	Acquired time.Time `json:"acquired"`
	// Renewed is the lease's last renewal; RenewedSecondsAgo how long
	// before At.
	Renewed           time.Time `json:"renewed"`
	RenewedSecondsAgo float64   `json:"renewed_seconds_ago"`
}

// Read gathers job's status from st as of now. A worker record not renewed
// within workerTimeout (the queue's ack wait) is a worker gone, as the
// coordinator judges it; 0 means coordinator.DefaultWorkerTimeout.
func Read(ctx context.Context, st Reader, job string, now time.Time, workerTimeout time.Duration) (Snapshot, error) {
	workerTimeout = cmp.Or(workerTimeout, coordinator.DefaultWorkerTimeout)
	snap := Snapshot{Job: job, At: now.UTC(), Workers: []Worker{}}

	prog, err := st.Progress(ctx, job)
	hasProgress := err == nil
	if err != nil && !errors.Is(err, messages.ErrNotFound) {
		return snap, fmt.Errorf("reading the progress of job %s: %w", job, err)
	}
	load, _, err := st.Load(ctx, job)
	hasLoad := err == nil
	if err != nil && !errors.Is(err, messages.ErrNotFound) {
		return snap, fmt.Errorf("reading the load of job %s: %w", job, err)
	}
	// A progress record of an older load than the load record's (a new
	// load whose coordinator has not written yet) says nothing of it.
	if hasProgress && hasLoad && prog.LoadID != load.LoadID && load.Started.After(prog.Started) {
		hasProgress = false
	}
	switch {
	case hasProgress:
		snap.Progress, snap.From = &prog, FromProgress
		if age := now.Sub(prog.Updated); prog.State == messages.LoadRunning && age > StaleAfter {
			snap.Stale, snap.StaleSeconds = true, age.Seconds()
		}
	case hasLoad:
		p := fromLoad(load)
		snap.Progress, snap.From = &p, FromLoad
	}

	workers, err := st.Workers(ctx, job)
	if err != nil {
		return snap, fmt.Errorf("reading the workers of job %s: %w", job, err)
	}
	for _, w := range workers {
		if now.Sub(w.Updated) > workerTimeout {
			snap.WorkersGone++
			continue
		}
		// A record written before the load ended may still name files of
		// it for up to a heartbeat: they are done, not held.
		if p := snap.Progress; p != nil && !p.Ended.IsZero() && w.Updated.Before(p.Ended) {
			w.Holding = slices.DeleteFunc(slices.Clone(w.Holding), func(h messages.Holding) bool { return h.LoadID == p.LoadID })
		}
		snap.Workers = append(snap.Workers, worker(w, now))
	}
	slices.SortFunc(snap.Workers, func(a, b Worker) int { return cmp.Compare(a.ID, b.ID) })

	lease, _, err := st.Lease(ctx, job)
	switch {
	case err == nil:
		snap.Coordinator = &Coordinator{Holder: lease.Holder, Host: lease.Host, PID: lease.PID, LoadID: lease.LoadID,
			Acquired: lease.Acquired, Renewed: lease.Renewed, RenewedSecondsAgo: now.Sub(lease.Renewed).Seconds()}
	case !errors.Is(err, messages.ErrNotFound):
		return snap, fmt.Errorf("reading the coordinator lease of job %s: %w", job, err)
	}
	return snap, nil
}

func worker(w messages.WorkerRecord, now time.Time) Worker {
	out := Worker{ID: w.ID, Host: w.Host, PID: w.PID, Version: w.Version, Slots: w.Slots, Started: w.Started,
		Updated: w.Updated, SeenSecondsAgo: now.Sub(w.Updated).Seconds(), Paused: w.Paused, Holding: []Held{}}
	for _, h := range w.Holding {
		out.Holding = append(out.Holding, Held{LoadID: h.LoadID, Table: h.Table, Key: h.Key, Bytes: h.Bytes, Rows: h.Rows,
			Since: h.Since, ForSeconds: now.Sub(h.Since).Seconds()})
	}
	slices.SortFunc(out.Holding, func(a, b Held) int { return a.Since.Compare(b.Since) })
	return out
}

// fromLoad is the progress a load record tells: its state and, once it
// ended, each table's summary (its bytes are the loaded files' sizes).
func fromLoad(load messages.LoadRecord) messages.ProgressRecord {
	p := messages.ProgressRecord{V: load.V, Job: load.Job, LoadID: load.LoadID, State: load.State,
		Started: load.Started, Ended: load.Ended, Tables: []messages.TableProgress{}}
	for _, t := range load.Tables {
		phase := messages.PhaseCommitted
		if !t.Committed {
			phase = messages.PhaseFailed
		}
		p.Tables = append(p.Tables, messages.TableProgress{Table: t.Table, Phase: phase, Files: t.Files, Listed: true,
			Loaded: t.Loaded, Failed: t.Failed, Changed: t.Changed, Rows: t.Rows, DoneBytes: t.Bytes,
			Committed: t.Committed, Error: t.Error})
	}
	return p
}
