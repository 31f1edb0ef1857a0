package soak

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/s3load/s3load/internal/testenv"
)

// The chaos schedule: while a load runs, every gapMin-gapMax one fault
// from those the moment allows, each repaired after a while, all drawn from
// the soak's seeded RNG:
//
//	worker kill       SIGKILL a worker; started again after 0.2-3 s
//	NATS restart      SIGKILL nats-server; started again on the same port
//	                  and storage after 0.2-4 s
//	S3 outage         the endpoint refuses connections for 2-10 s
//	S3 throttle       20-80 % of object GETs answered 503 SlowDown for 3-15 s
//	coordinator kill  SIGKILL the coordinator; started again after 0.2-3 s
//	                  (it resumes the open load)
//
// Faults overlap: a worker may die while NATS is down. When the load ends
// (or the soak's time is up) whatever is still broken is repaired at once.

// fault is a kind of fault.
type fault int

const (
	workerKill fault = iota
	natsRestart
	s3Outage
	s3Throttle
	coordinatorKill
	faultKinds
)

// faultHeadings head the per-load table's columns.
var faultHeadings = [faultKinds]string{"w-kill", "nats", "s3-down", "throttle", "c-kill"}

const (
	gapMin, gapMax = time.Second, 5 * time.Second
)

// faultCounts counts a load's faults by kind.
type faultCounts [faultKinds]int

func (fc faultCounts) String() string {
	var parts []string
	for k, n := range fc {
		parts = append(parts, fmt.Sprintf("%d %s", n, faultHeadings[k]))
	}
	return strings.Join(parts, ", ")
}

// repair ends a fault at its time.
type repair struct {
	at   time.Time
	what string
	do   func() error
}

// chaos injects faults into the soak's processes and S3 path. Its RNG is
// its own: run is its only user.
type chaos struct {
	rng   *rand.Rand
	fleet *fleet
	nats  *natsServer
	proxy *testenv.Proxy
	logf  func(format string, args ...any)
	// errs gets the repairs that failed (a process that would not start).
	errs chan error

	s3Down, throttled bool
}

// run injects faults until ctx ends, then repairs what is still broken and
// returns the counts.
func (c *chaos) run(ctx context.Context) faultCounts {
	var counts faultCounts
	var repairs []repair
	next := time.Now().Add(c.between(gapMin, gapMax))
	for {
		sort.Slice(repairs, func(i, j int) bool { return repairs[i].at.Before(repairs[j].at) })
		wake := next
		if len(repairs) > 0 && repairs[0].at.Before(wake) {
			wake = repairs[0].at
		}
		timer := time.NewTimer(time.Until(wake))
		select {
		case <-ctx.Done():
			timer.Stop()
			for _, r := range repairs {
				c.repair(r)
			}
			return counts
		case <-timer.C:
		}
		now := time.Now()
		for len(repairs) > 0 && !repairs[0].at.After(now) {
			c.repair(repairs[0])
			repairs = repairs[1:]
		}
		if !next.After(now) {
			if kind, r, ok := c.inject(); ok {
				counts[kind]++
				repairs = append(repairs, r)
			}
			next = time.Now().Add(c.between(gapMin, gapMax))
		}
	}
}

func (c *chaos) repair(r repair) {
	c.logf("chaos: %s", r.what)
	if err := r.do(); err != nil {
		select {
		case c.errs <- fmt.Errorf("%s: %w", r.what, err):
		default:
		}
	}
}

// inject starts one fault the moment allows and returns its repair.
func (c *chaos) inject() (fault, repair, bool) {
	workers := c.fleet.runningWorkers()
	var can []fault
	if len(workers) > 0 {
		can = append(can, workerKill)
	}
	if c.nats.running() {
		can = append(can, natsRestart)
	}
	if !c.s3Down {
		can = append(can, s3Outage)
	}
	if !c.throttled {
		can = append(can, s3Throttle)
	}
	if c.fleet.coordinatorRunning() {
		can = append(can, coordinatorKill)
	}
	if len(can) == 0 {
		return 0, repair{}, false
	}
	kind := can[c.rng.IntN(len(can))]
	switch kind {
	case workerKill:
		i := workers[c.rng.IntN(len(workers))]
		after := c.between(200*time.Millisecond, 3*time.Second)
		if !c.fleet.killWorker(i) {
			return 0, repair{}, false // it had exited: the fleet reports that
		}
		c.logf("chaos: SIGKILL worker w%d; started again in %s", i+1, after.Round(time.Millisecond))
		return kind, repair{at: time.Now().Add(after), what: fmt.Sprintf("worker w%d started again", i+1),
			do: func() error { return c.fleet.startWorker(i) }}, true
	case natsRestart:
		after := c.between(200*time.Millisecond, 4*time.Second)
		c.nats.kill()
		c.logf("chaos: SIGKILL nats-server; started again in %s", after.Round(time.Millisecond))
		return kind, repair{at: time.Now().Add(after), what: "nats-server started again", do: c.nats.start}, true
	case s3Outage:
		after := c.between(2*time.Second, 10*time.Second)
		c.proxy.Down()
		c.s3Down = true
		c.logf("chaos: S3 endpoint down for %s", after.Round(time.Millisecond))
		return kind, repair{at: time.Now().Add(after), what: "S3 endpoint up", do: func() error {
			c.proxy.Up()
			c.s3Down = false
			return nil
		}}, true
	case s3Throttle:
		rate := 0.2 + 0.6*c.rng.Float64()
		after := c.between(3*time.Second, 15*time.Second)
		c.proxy.Throttle(rate, http.StatusServiceUnavailable, "SlowDown")
		c.throttled = true
		c.logf("chaos: S3 throttles %.0f%% of object GETs (503 SlowDown) for %s", 100*rate, after.Round(time.Millisecond))
		return kind, repair{at: time.Now().Add(after), what: "S3 throttling over", do: func() error {
			c.proxy.StopThrottle()
			c.throttled = false
			return nil
		}}, true
	default:
		after := c.between(200*time.Millisecond, 3*time.Second)
		if !c.fleet.killCoordinator() {
			return 0, repair{}, false // it had exited on its own: that ends or fails the load
		}
		c.logf("chaos: SIGKILL coordinator; started again in %s", after.Round(time.Millisecond))
		return kind, repair{at: time.Now().Add(after), what: "coordinator started again", do: c.fleet.startCoordinator}, true
	}
}

// between draws a duration in [lo, hi).
func (c *chaos) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(c.rng.Int64N(int64(hi-lo)))
}
