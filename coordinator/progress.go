package coordinator

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/s3load/s3load/messages"
)

// ProgressInterval is how often a coordinator writes its load's progress
// to the ProgressStore.
const ProgressInterval = 2 * time.Second

// Progress returns the load's progress as this coordinator sees it now:
// the live view behind the progress bars, the status page, the metrics and
// `s3load status`. Safe to call from any goroutine; before a load starts
// it is the zero record.
func (c *Coordinator) Progress() messages.ProgressRecord {
	return c.progress.snapshot()
}

// tracker holds the live progress of the load a coordinator carries. The
// figures of a table come from its watch of the file records while it
// loads (a split file's ranges counted as records) and from its report
// once it ends (exact, ranges folded into files).
type tracker struct {
	mu  sync.Mutex
	rec messages.ProgressRecord
	// loading is, per table, when its loading began and how many source
	// bytes were final then (a resumed load's earlier work), for the rate.
	loading []rateBase
}

type rateBase struct {
	at   time.Time
	done int64
}

func (t *tracker) snapshot() messages.ProgressRecord {
	t.mu.Lock()
	defer t.mu.Unlock()
	rec := t.rec
	rec.Tables = make([]messages.TableProgress, len(t.rec.Tables))
	for i, tp := range t.rec.Tables {
		tp.Failures = append([]messages.ManifestFailure(nil), tp.Failures...)
		rec.Tables[i] = tp
	}
	return rec
}

// start begins the progress of a load.
func (t *tracker) start(cfg Config, load messages.LoadRecord) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rec = messages.ProgressRecord{V: 1, Job: cfg.Job, LoadID: load.LoadID, State: messages.LoadRunning,
		Coordinator: fmt.Sprintf("%s/%d", cfg.Host, cfg.PID), Started: load.Started, Updated: time.Now().UTC()}
	t.rec.Tables = make([]messages.TableProgress, len(cfg.Tables))
	t.loading = make([]rateBase, len(cfg.Tables))
	for i, tb := range cfg.Tables {
		t.rec.Tables[i] = messages.TableProgress{Table: tb.Name, Phase: messages.PhaseWaiting}
	}
}

// end records how the load ended: in state, or interrupted (still
// running, to be resumed).
func (t *tracker) end(state messages.LoadState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rec.State, t.rec.Updated = state, time.Now().UTC()
	if state != messages.LoadRunning {
		t.rec.Ended = t.rec.Updated
	}
}

// table changes table i's progress under the lock.
func (t *tracker) table(i int, fn func(tp *messages.TableProgress)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if i < 0 || i >= len(t.rec.Tables) {
		return
	}
	fn(&t.rec.Tables[i])
	t.rec.Updated = time.Now().UTC()
}

// phase moves table i to phase p.
func (t *tracker) phase(i int, p messages.TablePhase) {
	t.table(i, func(tp *messages.TableProgress) {
		if tp.Started.IsZero() {
			tp.Started = time.Now().UTC()
		}
		tp.Phase = p
	})
}

// listed records table i's listing, and the files a resumed load keeps.
func (t *tracker) listed(i int, rec messages.TableRecord, reused int) {
	t.table(i, func(tp *messages.TableProgress) {
		tp.Files, tp.Skipped, tp.Listed, tp.Reused = rec.Files, rec.Skipped, rec.Listed, reused
	})
}

// watched takes table i's figures from its watch's view.
func (t *tracker) watched(i int, v *view) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if i < 0 || i >= len(t.rec.Tables) {
		return
	}
	tp := &t.rec.Tables[i]
	c := v.counts
	tp.InFlight, tp.Loaded, tp.Failed, tp.Changed = c.inFlight, c.loaded, c.failed, c.changed
	tp.Rows, tp.SourceBytes, tp.DoneBytes, tp.OutputBytes = c.rows, c.sourceBytes, c.doneBytes, c.outputBytes
	now := time.Now()
	base := &t.loading[i]
	if base.at.IsZero() {
		base.at, base.done = now, c.doneBytes
	}
	if secs := now.Sub(base.at).Seconds(); secs >= 1 && c.doneBytes > base.done {
		tp.BytesPerSecond = float64(c.doneBytes-base.done) / secs
		tp.ETASeconds = float64(max(c.sourceBytes-c.doneBytes, 0)) / tp.BytesPerSecond
	}
	t.rec.Updated = now.UTC()
}

// ended records table i's outcome from its report: exact figures.
func (t *tracker) ended(i int, r TableReport) {
	t.table(i, func(tp *messages.TableProgress) {
		tp.Phase, tp.Committed, tp.Error = messages.PhaseCommitted, r.Committed, r.Error
		if !r.Committed {
			tp.Phase = messages.PhaseFailed
		}
		tp.Files, tp.Skipped, tp.Loaded, tp.Failed, tp.Changed, tp.Reused = r.Files, r.Skipped, r.Loaded, r.Failed, r.Changed, r.Reused
		tp.Rows, tp.InFlight, tp.ETASeconds, tp.Snapshot = r.Rows, 0, 0, r.Snapshot
		tp.Ended = time.Now().UTC()
		tp.Failures = nil
		for _, f := range r.Failures {
			if len(tp.Failures) == messages.MaxProgressFailures {
				break
			}
			f.Error = clip(f.Error)
			tp.Failures = append(tp.Failures, f)
		}
	})
}

// failure notes a file of table i that failed, while the table loads.
func (t *tracker) failure(i int, f messages.FileRecord) {
	t.table(i, func(tp *messages.TableProgress) {
		for _, had := range tp.Failures {
			if had.Source.Key == f.Source.Key {
				return // seen again by a new watch
			}
		}
		if len(tp.Failures) < messages.MaxProgressFailures {
			tp.Failures = append(tp.Failures, messages.ManifestFailure{Source: f.Source, State: f.State, Error: clip(f.Error), Attempts: f.Attempts})
		}
	})
}

// maxProgressError bounds each failure's error in a progress record; the
// report and the manifest keep it whole.
const maxProgressError = 512

func clip(s string) string {
	if len(s) <= maxProgressError {
		return s
	}
	cut := maxProgressError
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// publishProgress writes the load's progress to the ProgressStore every
// ProgressInterval until ctx ends. Best effort: a store that is away only
// makes status readers see an older record.
func (c *Coordinator) publishProgress(ctx context.Context) {
	if c.ProgressStore == nil {
		return
	}
	tick := time.NewTicker(ProgressInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			c.writeProgress(ctx)
		}
	}
}

func (c *Coordinator) writeProgress(ctx context.Context) {
	if c.ProgressStore == nil {
		return
	}
	wctx, cancel := context.WithTimeout(ctx, ProgressInterval)
	defer cancel()
	rec := c.Progress()
	err := c.ProgressStore.PutProgress(wctx, rec)
	if errors.Is(err, messages.ErrTooLarge) {
		// Many tables with many long errors: the figures matter more.
		for i := range rec.Tables {
			rec.Tables[i].Failures = nil
		}
		err = c.ProgressStore.PutProgress(wctx, rec)
	}
	if err != nil && ctx.Err() == nil {
		c.cfg.Logger.Debug("writing the load's progress", "err", err)
	}
}

// viewCounts are a view's figures by record.
type viewCounts struct {
	inFlight, loaded, failed, changed         int
	rows, sourceBytes, doneBytes, outputBytes int64
}

// add counts f in (sign 1) or out (sign -1).
func (vc *viewCounts) add(f messages.FileRecord, sign int) {
	size := f.Source.Size
	if f.Range != nil {
		size = f.Range.End - f.Range.Start
	}
	first := f.Range == nil || f.Range.Index == 0
	files := 0
	if first {
		files = sign
	}
	vc.sourceBytes += int64(sign) * size
	switch f.State {
	case messages.StateLoaded:
		vc.loaded += files
		vc.rows += int64(sign) * f.Rows
		vc.outputBytes += int64(sign) * f.Bytes
	case messages.StateFailed:
		vc.failed += files
	case messages.StateChanged:
		vc.changed += files
	case messages.StateMerged:
	default:
		vc.inFlight += files
		return
	}
	vc.doneBytes += int64(sign) * size
}
