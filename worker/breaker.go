package worker

import (
	"context"
	"sync"
	"time"
)

// breakerTrips is how many passing failures in a row, with no file loaded
// in between, make the worker suspect the store rather than the files.
const breakerTrips = 3

// Probe backoff while paused: the first probe goes at once (a run of
// failures of a few files, not of the store, should cost no wait), then
// the waits grow to probeMax.
const (
	probeFirst = 250 * time.Millisecond
	probeMax   = 10 * time.Second
)

// breaker pauses fetching while the store as a whole is failing: during an
// outage every task would only fail again and eat into its retry budget,
// so the worker stops taking tasks and probes the store instead.
type breaker struct {
	enabled bool
	// first and most wait between probes.
	first, most time.Duration
	tripped     chan struct{} // signalled when the breaker opens
	mu          sync.Mutex
	fails       int
	paused      chan struct{} // non-nil while paused; closed on resume
	since       time.Time
}

func newBreaker(enabled bool) *breaker {
	return &breaker{enabled: enabled, first: probeFirst, most: probeMax, tripped: make(chan struct{}, 1)}
}

// observe counts an outcome: a run of transient failures trips the breaker,
// a loaded file resets it. Other kinds are about files, not the store.
func (b *breaker) observe(k Kind) {
	if !b.enabled {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch k {
	case Loaded:
		b.fails = 0
	case Transient:
		b.fails++
		if b.fails >= breakerTrips && b.paused == nil {
			b.paused, b.since = make(chan struct{}), time.Now()
			select {
			case b.tripped <- struct{}{}:
			default:
			}
		}
	}
}

// pausedSince reports whether the breaker is open, and since when.
func (b *breaker) pausedSince() (time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.since, b.paused != nil
}

func (b *breaker) resume() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.paused != nil {
		close(b.paused)
		b.paused, b.fails = nil, 0
	}
}

// wait blocks while the breaker is open.
func (b *breaker) wait(ctx context.Context) error {
	b.mu.Lock()
	ch := b.paused
	b.mu.Unlock()
	if ch == nil {
		return ctx.Err()
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// probe runs while the worker does: whenever the breaker is open it probes
// the store with backoff and closes the breaker once the store answers.
func (w *Worker) probe(ctx context.Context) {
	if w.cfg.Probe == nil {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.breaker.tripped:
		}
		since, _ := w.breaker.pausedSince()
		w.cfg.Logger.Warn("the store keeps failing; taking no task until it answers", "failures", breakerTrips)
		wait := time.Duration(0)
		var said time.Time
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := w.cfg.Probe.Probe(pctx)
			cancel()
			if err == nil {
				w.cfg.Logger.Info("the store answers again; taking tasks", "paused", time.Since(since).Round(time.Second))
				w.breaker.resume()
				break
			}
			if time.Since(said) >= 30*time.Second {
				w.cfg.Logger.Warn("the store still fails", "err", err, "paused", time.Since(since).Round(time.Second))
				said = time.Now()
			}
			wait = min(max(2*wait, w.breaker.first), w.breaker.most)
		}
	}
}
