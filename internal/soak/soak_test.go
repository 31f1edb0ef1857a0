// Package soak holds the randomized soak test: a real deployment (versitygw
// behind a fault-injecting proxy, a nats-server process, an s3load
// coordinator and workers as processes) runs full load after full load
// while a seeded schedule kills workers, the coordinator and NATS, takes
// the S3 endpoint down and throttles it; after every load each source file
// must be in its table exactly once. The package holds only tests.
//
//	go test ./internal/soak -run TestSoak -v                              # 2 minutes, a clock seed
//	go test ./internal/soak -run TestSoak -v -soak.seed=42 -soak.duration=10m   # make soak, replayed
package soak

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/s3load/s3load/internal/testenv"
)

var (
	soakDuration = flag.Duration("soak.duration", 2*time.Minute, "how long the soak runs loads under faults, setup included")
	soakSeed     = flag.Uint64("soak.seed", 0, "seed of the data set and the fault schedule (0: from the clock); printed, so a failure can be replayed")
	soakTables   = flag.String("soak.format", "iceberg", "the table format the soak loads into: iceberg or parquet")
)

// The soak's deployment.
const (
	bucket  = "soak"
	workers = 3
	// loadTimeout bounds one load, faults included: a load still running
	// then is stuck, and that is a finding.
	loadTimeout = 5 * time.Minute
	// tailBytes of a process's output go in a failure message.
	tailBytes = 4 << 10
	// restartDelay: an s3load process that exited on its own is started
	// again after this, as a supervisor would, so that one run of the soak
	// shows everything that goes wrong (the test fails all the same).
	restartDelay = time.Second
	// maxExits bounds the exits on their own in one load.
	maxExits = 50
)

// config is the load config of the coordinator and every worker: short
// timers so faults are noticed in seconds, a retry budget (10 min) that
// outlasts every fault of the schedule, and split.range_bytes low enough
// that the big files load by ranges.
const config = `source:
  region: %s
  bucket: %s
  endpoint: %s
  path_style: true
  access_key_id: ${SOAK_S3_KEY}
  secret_access_key: ${SOAK_S3_SECRET}
tables:
%s
target: file://%s
table_format: %s
namespace: soak
nats:
  url: %s
  ack_wait: 3s
coordinator: { check_interval: 1s, lease_ttl: 3s }
retry: { max_duration: 10m, backoff: 200ms, max_backoff: 2s }
split: { range_bytes: 2MiB }
`

// soakFormat is the table format of the soak's loads.
func soakFormat() string { return *soakTables }

// soak is one run: the servers, the fleet, the data set and the clock.
type soak struct {
	t       *testing.T
	started time.Time
	dir     string // logs, NATS storage, the target; kept if the soak fails
	out     string
	s3      *testenv.S3Server
	proxy   *testenv.Proxy
	nats    *natsServer
	fleet   *fleet
	data    *dataset
	dataRNG *rand.Rand
	chaos   *chaos
}

// loadResult is one load's line in the soak's table.
type loadResult struct {
	n            int
	tally        tally
	faults       faultCounts
	coordinators int
	exits        int // s3load processes that exited on their own
	took         time.Duration
}

func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("the soak runs for minutes; -short leaves it out")
	}
	seed := *soakSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d: replay with go test ./internal/soak -run TestSoak -v -soak.seed=%d -soak.duration=%s", seed, seed, *soakDuration)
	s := newSoak(t, seed)
	deadline := s.started.Add(*soakDuration)

	var results []loadResult
	var fastest time.Duration
	for n := 1; ; n++ {
		r, err := s.load(n, deadline)
		results = append(results, r)
		if err != nil {
			t.Fatalf("seed %d, load %d: %v\n%s", seed, n, err, table(results))
		}
		s.logf("load %d: %d files, %d ok, %d lost, %d duplicated, %d unknown; faults: %s; %d exits on their own; %s",
			n, r.tally.files, r.tally.ok, r.tally.lost, r.tally.duplicated, r.tally.unknown, r.faults, r.exits, r.took.Round(time.Millisecond))
		if !r.tally.exact() {
			t.Fatalf("seed %d, load %d is not exact:\n  %s\n%s", seed, n, strings.Join(r.tally.problems, "\n  "), table(results))
		}
		if fastest == 0 || r.took < fastest {
			fastest = r.took
		}
		// Another load only if it can finish in time: the soak's
		// duration bounds the whole test.
		if time.Until(deadline) < fastest {
			break
		}
		s.logf("between loads: %s", s.data.change(t, s.dataRNG))
	}
	t.Logf("seed %d: %d loads in %s\n%s", seed, len(results), time.Since(s.started).Round(time.Second), table(results))
}

// newSoak starts the servers and the workers and puts the data set in the
// bucket.
func newSoak(t *testing.T, seed uint64) *soak {
	t.Helper()
	natsBin := natsServerBinary(t)
	s := &soak{t: t, started: time.Now()}
	dir, err := os.MkdirTemp("", "s3load-soak-")
	if err != nil {
		t.Fatal(err)
	}
	s.dir = dir
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the soak's logs, NATS storage and tables are kept in %s", dir)
			return
		}
		os.RemoveAll(dir)
	})
	logs, natsDir := filepath.Join(dir, "logs"), filepath.Join(dir, "nats")
	s.out = filepath.Join(dir, "out")
	for _, d := range []string{logs, natsDir, s.out} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := buildS3load(t, dir)
	s.logf("s3load built")

	s.s3 = testenv.Versity(t)
	s.s3.CreateBucket(t, bucket)
	s.proxy = testenv.NewProxy(t, s.s3.Endpoint)
	s.nats = newNATSServer(t, natsBin, natsDir, logs)
	t.Cleanup(s.nats.stop)
	if err := s.nats.start(); err != nil {
		t.Fatal(err)
	}

	var lines []string
	for _, ts := range tables {
		lines = append(lines, "  - "+ts.config)
	}
	cfgPath := filepath.Join(dir, "load.yaml")
	doc := fmt.Sprintf(config, s.s3.Region, bucket, s.proxy.Endpoint, strings.Join(lines, "\n"), s.out, soakFormat(), s.nats.url())
	if err := os.WriteFile(cfgPath, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"SOAK_S3_KEY=" + s.s3.AccessKeyID, "SOAK_S3_SECRET=" + s.s3.SecretAccessKey}
	s.fleet = newFleet(bin, cfgPath, logs, env, workers)
	t.Cleanup(s.fleet.stop) // before NATS stops: the workers drain while it is up
	for i := range workers {
		if err := s.fleet.startWorker(i); err != nil {
			t.Fatal(err)
		}
	}

	s.logf("servers and workers started")
	s.dataRNG = rand.New(rand.NewPCG(seed, 1))
	s.data = newDataset(t, s.dataRNG, s.s3, bucket)
	size, rows := s.data.size()
	s.logf("data set: %d files, %.1f MB, %d rows", len(s.data.objects), float64(size)/1e6, rows)
	s.chaos = &chaos{rng: rand.New(rand.NewPCG(seed, 2)), fleet: s.fleet, nats: s.nats, proxy: s.proxy,
		logf: s.logf, errs: make(chan error, 64)}
	return s
}

// logf logs with the time since the soak started.
func (s *soak) logf(format string, args ...any) {
	s.t.Logf("%7.1fs %s", time.Since(s.started).Seconds(), fmt.Sprintf(format, args...))
}

// load runs one full load under chaos until a coordinator exits 0, then
// does its bookkeeping. Faults stop at deadline; the load then finishes
// in calm.
func (s *soak) load(n int, deadline time.Time) (r loadResult, err error) {
	r.n = n
	src := s.data.source()
	started := time.Now()
	firstCoordinator := s.fleet.coordinatorsStarted() + 1
	if err := s.fleet.startCoordinator(); err != nil {
		return r, err
	}
	s.logf("load %d: coordinator started", n)
	ctx, stopChaos := context.WithDeadline(context.Background(), deadline)
	faults := make(chan faultCounts, 1)
	go func() { faults <- s.chaos.run(ctx) }() // owned by load: stopped and awaited below.
	endChaos := func() {
		if stopChaos != nil {
			stopChaos()
			r.faults, stopChaos = <-faults, nil
			r.took = time.Since(started)
			r.coordinators = s.fleet.coordinatorsStarted() - firstCoordinator + 1
		}
	}
	defer endChaos() // on a failure: repaired, and counted in the result

	timeout := time.NewTimer(loadTimeout)
	defer timeout.Stop()
	for ended := false; !ended; {
		select {
		case p := <-s.fleet.coordinatorExits:
			if p.state.ExitCode() == 0 {
				ended = true
				continue
			}
			if err := s.exitedOnItsOwn(&r, p, s.fleet.startCoordinator); err != nil {
				return r, err
			}
		case p := <-s.fleet.workerExits:
			i, ok := s.fleet.slotOf(p)
			if !ok {
				return r, fmt.Errorf("%s exited, and is no worker of the fleet", p)
			}
			if err := s.exitedOnItsOwn(&r, p, func() error { return s.fleet.startWorker(i) }); err != nil {
				return r, err
			}
		case p := <-s.nats.exits:
			return r, fmt.Errorf("%s, not killed by the soak; its output ends:\n%s", p, p.tail(tailBytes))
		case err := <-s.chaos.errs:
			return r, fmt.Errorf("repairing a fault: %w", err)
		case <-timeout.C:
			return r, fmt.Errorf("the load did not end within %s; the coordinator's output ends:\n%s",
				loadTimeout, s.fleet.currentCoordinator().tail(tailBytes))
		}
	}
	endChaos()
	if s.fleet.coordinatorRunning() {
		return r, fmt.Errorf("a coordinator runs after the load ended: %s", s.fleet.currentCoordinator())
	}
	for _, ts := range tables {
		if soakFormat() == "iceberg" {
			r.tally.add(accountIceberg(s.out, ts.name, src[ts.name]))
		} else {
			r.tally.add(account(s.out, ts.name, src[ts.name]))
		}
	}
	return r, nil
}

// exitedOnItsOwn fails the test for an s3load process that exited though
// the soak did not kill it (exit 1: a table not committed; 3: the process
// could not run), and starts it again after restartDelay: a coordinator
// then resumes the load, as s3load promises. The soak goes on, so that
// one run shows all it finds; too many such exits in one load end it.
func (s *soak) exitedOnItsOwn(r *loadResult, p *process, start func() error) error {
	r.exits++
	s.t.Errorf("load %d, %.1fs: %s exited on its own; started again in %s. Its output ends:\n%s",
		r.n, time.Since(s.started).Seconds(), p, restartDelay, p.tail(tailBytes))
	if r.exits > maxExits {
		return fmt.Errorf("%d processes exited on their own in this load", r.exits)
	}
	timer := time.NewTimer(restartDelay)
	<-timer.C
	return start()
}

// table prints the loads, a line each.
func table(results []loadResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%4s %6s %6s %5s %5s %7s |", "load", "files", "ok", "lost", "dup", "unknown")
	for _, h := range faultHeadings {
		fmt.Fprintf(&b, " %8s", h)
	}
	fmt.Fprintf(&b, " | %6s %5s %8s\n", "coords", "exits", "seconds")
	var total loadResult
	for _, r := range results {
		line(&b, fmt.Sprint(r.n), r)
		total.tally.add(r.tally)
		for k, c := range r.faults {
			total.faults[k] += c
		}
		total.coordinators += r.coordinators
		total.exits += r.exits
		total.took += r.took
	}
	if len(results) > 1 {
		line(&b, "all", total)
	}
	return b.String()
}

func line(b *strings.Builder, name string, r loadResult) {
	tl := r.tally
	fmt.Fprintf(b, "%4s %6d %6d %5d %5d %7d |", name, tl.files, tl.ok, tl.lost, tl.duplicated, tl.unknown)
	for _, c := range r.faults {
		fmt.Fprintf(b, " %8d", c)
	}
	fmt.Fprintf(b, " | %6d %5d %8.1f\n", r.coordinators, r.exits, r.took.Seconds())
}
