//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/testcontainers/testcontainers-go"

	"github.com/s3load/s3load/internal/natsq"
	"github.com/s3load/s3load/messages"
)

// loadTimeout bounds one load, faults included.
const loadTimeout = 4 * time.Minute

// newRand is the case's randomness ("random moments"), seeded from
// E2E_SEED when set, so that a failure can be replayed.
func newRand(t *testing.T) *rand.Rand {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("E2E_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("E2E_SEED: %v", err)
		}
		seed = v
	}
	t.Logf("random seed %d (E2E_SEED=%d replays it)", seed, seed)
	return rand.New(rand.NewPCG(seed, 0xe2e))
}

// finish waits for the coordinator, which must exit 0 (every table
// committed), and checks the tables.
func (d *deployment) finish(started time.Time) time.Duration {
	d.t.Helper()
	code := d.waitCoordinator(loadTimeout)
	wall := time.Since(started)
	if code != 0 {
		d.t.Fatalf("the coordinator exited %d after %s; its report:\n%s", code, wall.Round(time.Millisecond),
			tail(containerLogs(d.ctx, d.coordinator), 2048))
	}
	d.verify()
	return wall
}

var fourWorkers = []string{"w1", "w2", "w3", "w4"}

// 1. One coordinator and four workers, no faults: the baseline, as
// compose's demo runs it: Iceberg tables in the lake bucket of the S3
// server, read back through S3.
func TestBaseline(t *testing.T) {
	d := newDeployment(t, options{batchFiles: 64, s3Target: true})
	d.startWorkers(fourWorkers...)
	started := time.Now()
	d.startCoordinator()
	wall := d.finish(started)
	// The state a load keeps in NATS, for the sizing notes in docs/deploy.md.
	nc, js := d.js()
	defer nc.Close()
	kv, err := js.Stream(d.ctx, "KV_"+natsq.StateBucket)
	if err != nil {
		t.Fatal(err)
	}
	info, err := kv.Info(d.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range checkTheLakeChecker(d.ctx, d.lake) {
		t.Error(f)
	}
	report(t, "%6.1fs  %d files, %d rows: %.0f files/s with 4 workers x 2 slots; state in NATS %d B per file",
		wall.Seconds(), totalFiles, totalFiles*rowsPerFile, totalFiles/wall.Seconds(), info.State.Bytes/uint64(info.State.Msgs))
}

// 2. SIGKILL a worker three times at random moments; a supervisor starts it
// again each time (compose's restart policy). The killed worker's files are
// redelivered after the ack wait and loaded once.
func TestWorkerKilled(t *testing.T) {
	rng := newRand(t)
	d := newDeployment(t, options{})
	d.startWorkers(fourWorkers...)
	started := time.Now()
	d.startCoordinator()
	nc, js := d.js()
	defer nc.Close()

	fracs := []float64{0.1 + 0.65*rng.Float64(), 0.1 + 0.65*rng.Float64(), 0.1 + 0.65*rng.Float64()}
	sort.Float64s(fracs)
	caught := 0
	for i, f := range fracs {
		d.waitProgress(f)
		// The victim is a worker holding files, when one is: a random one
		// was often idle (on 2026-12-04 three kills in a row caught w4
		// holding nothing, and redelivery went untested).
		before, err := fileRecords(d.ctx, js)
		if err != nil {
			t.Fatal(err)
		}
		victim := holdingWorker(rng, before)
		d.kill(d.workers[victim])
		recs, err := fileRecords(d.ctx, js)
		if err != nil {
			t.Fatal(err)
		}
		held := inFlight(recs, victim)
		caught += len(held)
		t.Logf("kill %d at %d/%d parts: %s died holding %d files", i+1, d.partsWritten(), totalFiles, victim, len(held))
		if err := d.workers[victim].Start(d.ctx); err != nil {
			t.Fatalf("starting %s again: %v", victim, err)
		}
	}
	wall := d.finish(started)
	if caught == 0 {
		t.Errorf("no kill caught a worker holding a file: the case did not exercise redelivery")
	}
	report(t, "%6.1fs  3 workers killed holding %d files in all", wall.Seconds(), caught)
}

// holdingWorker is a random one of the workers that hold files in recs,
// or of all four if none does.
func holdingWorker(rng *rand.Rand, recs []messages.FileRecord) string {
	var holding []string
	for _, w := range fourWorkers {
		if len(inFlight(recs, w)) > 0 {
			holding = append(holding, w)
		}
	}
	if len(holding) == 0 {
		holding = fourWorkers
	}
	return holding[rng.IntN(len(holding))]
}

// 3. Pause a worker holding a file for longer than the ack wait, then let it
// go on: another worker has claimed the file meanwhile, so the zombie's
// late result is fenced (its compare-and-set fails) and neither duplicates
// nor overwrites the newer one.
func TestWorkerPausedIsFenced(t *testing.T) {
	rng := newRand(t)
	d := newDeployment(t, options{ackWait: 3 * time.Second})
	d.startWorkers(fourWorkers...)
	started := time.Now()
	d.startCoordinator()
	nc, js := d.js()
	defer nc.Close()
	d.waitProgress(0.15)

	// Pause a random worker; keep it paused only if it holds a claimed file.
	var zombie string
	var held messages.FileRecord
	var pausedAt time.Time
	waitFor(t, 2*time.Minute, "a worker paused while holding a file", func() (bool, error) {
		name := fourWorkers[rng.IntN(len(fourWorkers))]
		d.pause(d.workers[name])
		pausedAt = time.Now()
		recs, err := fileRecords(d.ctx, js)
		if err != nil {
			return false, err
		}
		h := inFlight(recs, name)
		if len(h) == 0 {
			d.unpause(d.workers[name])
			return false, nil
		}
		// Its task comes back after the ack wait and another worker claims
		// it, unless the worker's own result was already on the wire when
		// the pause took hold: then try again.
		var reclaimed bool
		waitFor(t, 10*d.opts.ackWait+30*time.Second, "another worker to claim the paused worker's file", func() (bool, error) {
			rec, err := fileRecord(d, js, h[0])
			reclaimed = rec.Worker != name
			return reclaimed || rec.State.Terminal(), err
		})
		if !reclaimed {
			t.Logf("%s recorded %s just as it was paused; pausing again", name, h[0].Source)
			d.unpause(d.workers[name])
			return false, nil
		}
		zombie, held = name, h[0]
		return true, nil
	})
	t.Logf("paused %s holding %s; another worker claimed it after %s", zombie, held.Source,
		time.Since(pausedAt).Round(time.Millisecond))

	// Well past the ack wait, so the zombie comes back to a claim that has
	// moved on, whatever its heartbeat did before the pause.
	waitFor(t, time.Minute, "twice the ack wait paused", func() (bool, error) {
		return time.Since(pausedAt) > 2*d.opts.ackWait, nil
	})
	d.unpause(d.workers[zombie])
	pausedFor := time.Since(pausedAt)
	t.Logf("unpaused %s after %s (ack wait %s)", zombie, pausedFor.Round(time.Millisecond), d.opts.ackWait)
	// The pause may have caught the zombie loading (its late result is then
	// fenced) or still writing its claim (the claim then fails once it wakes
	// up, and the file is not loaded by it): either way nothing of the
	// zombie's may land, which the file's record below shows.
	waitFor(t, time.Minute, "the zombie's late result to be fenced, or its late claim refused", func() (bool, error) {
		for _, line := range strings.Split(containerLogs(d.ctx, d.workers[zombie]), "\n") {
			if !strings.Contains(line, held.Source.Key) {
				continue
			}
			if strings.Contains(line, "fenced: file claimed by another worker") || strings.Contains(line, `msg="claiming files"`) {
				return true, nil
			}
		}
		return false, nil
	})
	wall := d.finish(started)
	rec, err := fileRecord(d, js, held)
	if err != nil {
		t.Fatal(err)
	}
	if rec.State != messages.StateLoaded {
		t.Errorf("the zombie's file ended %s: %s", rec.State, rec.Error)
	}
	if rec.Worker == zombie {
		t.Errorf("the zombie %s's late result landed: the file's record names it", zombie)
	}
	report(t, "%6.1fs  %s paused %s (ack wait %s) holding a file, its late result fenced; the file loaded by %s",
		wall.Seconds(), zombie, pausedFor.Round(100*time.Millisecond), d.opts.ackWait, rec.Worker)
}

// checkTheChecker spoils a committed plain Parquet table the ways a faulty
// load would, a part twice and a part lost, and makes sure the verdict on
// plain tables notices each.
func checkTheChecker(t *testing.T, out string) {
	t.Helper()
	dir := filepath.Join(out, "orders")
	data, err := os.ReadFile(filepath.Join(dir, "_manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := messages.Unmarshal[messages.Manifest](data)
	if err != nil {
		t.Fatal(err)
	}
	part := filepath.Join(dir, m.Files[0].Path)
	body, err := os.ReadFile(part)
	if err != nil {
		t.Fatal(err)
	}
	dup := filepath.Join(dir, "part-duplicate.parquet")
	if err := os.WriteFile(dup, body, 0o644); err != nil {
		t.Fatal(err)
	}
	if p := checkOutput(out); !hasProblem(p, "does not list") || !hasProblem(p, "duplicate") {
		t.Errorf("the checker missed a duplicated part: %q", p)
	}
	if err := os.Remove(dup); err != nil {
		t.Fatal(err)
	}
	// A file lost whole: its part and its manifest entry gone.
	if err := os.Remove(part); err != nil {
		t.Fatal(err)
	}
	// Every file of that part is lost with it (small files share parts).
	lost := m.Files[0].Path
	kept := m.Files[:0]
	for _, f := range m.Files {
		if f.Path == lost {
			m.Rows -= f.Rows
			continue
		}
		kept = append(kept, f)
	}
	m.Files = kept
	m.Parts = slices.DeleteFunc(m.Parts, func(p messages.ManifestPart) bool { return p.Path == lost })
	if data, err = messages.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "_manifest.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if p := checkOutput(out); !hasProblem(p, "missing from the manifest") || !hasProblem(p, "not exactly") {
		t.Errorf("the checker missed a lost file: %q", p)
	}
}

func hasProblem(problems []string, s string) bool {
	for _, p := range problems {
		if strings.Contains(p, s) {
			return true
		}
	}
	return false
}

// fileRecord reads the current record of one file.
func fileRecord(d *deployment, js jetstream.JetStream, rec messages.FileRecord) (messages.FileRecord, error) {
	kv, err := js.KeyValue(d.ctx, natsq.StateBucket)
	if err != nil {
		return rec, err
	}
	e, err := kv.Get(d.ctx, "file."+rec.LoadID+"."+rec.Table+"."+rec.Source.Token())
	if err != nil {
		return rec, err
	}
	return messages.Unmarshal[messages.FileRecord](e.Value())
}

// 4. Restart the NATS server mid-load: its JetStream store is on a volume,
// the clients reconnect, and the load completes without anyone's help.
func TestNATSRestart(t *testing.T) {
	d := newDeployment(t, options{})
	d.startWorkers(fourWorkers...)
	started := time.Now()
	d.startCoordinator()
	d.waitProgress(0.3)
	down := time.Now()
	stop := 10 * time.Second
	if err := d.nats[0].Stop(d.ctx, &stop); err != nil {
		t.Fatalf("stopping NATS: %v", err)
	}
	if err := d.nats[0].Start(d.ctx); err != nil {
		t.Fatalf("starting NATS again: %v", err)
	}
	t.Logf("NATS restarted at %d/%d parts, down %s", d.partsWritten(), totalFiles, time.Since(down).Round(time.Millisecond))
	wall := d.finish(started)
	report(t, "%6.1fs  NATS restarted mid-load", wall.Seconds())
}

// 5. Kill the coordinator while it is still publishing (the proxy serves
// listings in pages of 60 keys, one table's slowly, so that table is still
// listing when the others are recorded) and start it again: it resumes the
// open load, lists again, creates only the missing records, and nothing is
// skipped.
func TestCoordinatorKilledMidPublish(t *testing.T) {
	d := newDeployment(t, options{viaProxy: true, batchFiles: 64})
	// A table's files are recorded in one burst once it is listed and probed
	// (its schema is decided from every file): slowing every listing alike
	// left nothing between the first record and the last to kill in, and a
	// run killed the coordinator after all 510.
	d.setFaults(map[string]any{"list_max_keys": 60, "list_delay": "5s", "list_delay_prefix": "products/"})
	d.startWorkers(fourWorkers...)
	nc, js := d.js()
	defer nc.Close()
	started := time.Now()
	d.startCoordinator()
	var published int
	waitFor(t, 2*time.Minute, "the coordinator to publish a quarter of the files", func() (bool, error) {
		recs, err := fileRecords(d.ctx, js)
		published = len(recs)
		return published >= totalFiles/4, err
	})
	d.kill(d.coordinator)
	recs, err := fileRecords(d.ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) >= totalFiles {
		t.Fatalf("the coordinator had recorded all %d files before it died: it was not killed mid-publish", len(recs))
	}
	t.Logf("coordinator killed with %d of %d files recorded", len(recs), totalFiles)
	d.startCoordinator()
	wall := d.finish(started)
	if st := d.proxyStats(); st.ListsPaged < 2 {
		t.Errorf("the proxy paged %d listings: the listing was not slowed as the case needs", st.ListsPaged)
	}
	report(t, "%6.1fs  coordinator killed with %d/%d files recorded, restarted", wall.Seconds(), len(recs), totalFiles)
}

// 6. A three-node NATS cluster, stream and state bucket at 3 replicas: stop
// the node leading the task stream mid-load; the others elect a leader and
// the load completes.
func TestNATSClusterNodeLost(t *testing.T) {
	d := newDeployment(t, options{natsNodes: 3})
	d.startWorkers(fourWorkers...)
	started := time.Now()
	d.startCoordinator()
	d.waitProgress(0.3)
	nc, js := d.js()
	defer nc.Close()
	stream, err := js.Stream(d.ctx, natsq.TaskStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(d.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.Replicas != 3 || info.Cluster == nil || len(info.Cluster.Replicas) != 2 {
		t.Fatalf("the task stream is not replicated 3 ways: %+v", info.Cluster)
	}
	kvs, err := js.Stream(d.ctx, "KV_"+natsq.StateBucket)
	if err != nil {
		t.Fatal(err)
	}
	if kinfo, err := kvs.Info(d.ctx); err != nil || kinfo.Config.Replicas != 3 {
		t.Fatalf("the state bucket is not replicated 3 ways (err %v)", err)
	}
	leader := info.Cluster.Leader
	var node *testcontainers.DockerContainer
	for i, c := range d.nats {
		if fmt.Sprintf("nats-%d", i+1) == leader {
			node = c
		}
	}
	if node == nil {
		t.Fatalf("no container for the stream leader %q", leader)
	}
	stop := 10 * time.Second
	if err := node.Stop(d.ctx, &stop); err != nil {
		t.Fatalf("stopping %s: %v", leader, err)
	}
	t.Logf("stopped %s, the task stream's leader, at %d/%d parts", leader, d.partsWritten(), totalFiles)
	wall := d.finish(started)
	report(t, "%6.1fs  stream leader %s stopped mid-load, 2 of 3 nodes left", wall.Seconds(), leader)
}

// 7. Scale the workers from 1 to 6 and back to 2 during one load. Stopped
// workers drain (SIGTERM: the files in hand finish) and exit 0.
func TestScaleWorkers(t *testing.T) {
	d := newDeployment(t, options{viaProxy: true})
	// Each GET is held back so that one worker alone would take ~10 s over
	// the 510 files: a load of the demo's small files is over in about the
	// time five containers take to start (a run left w2, w3 and w6 idle,
	// another gave w5 9 files), and a test that scales a load needs one
	// that lasts, whatever the speed of a file's load.
	d.setFaults(map[string]any{"get_delay": "20ms"})
	d.startWorkers("w1")
	started := time.Now()
	d.startCoordinator()
	// Scale up as soon as the coordinator runs, not after a share of the
	// parts.
	all := []string{"w1", "w2", "w3", "w4", "w5", "w6"}
	d.startWorkers(all[1:]...)
	t.Logf("scaled 1 -> 6 at %d/%d parts", d.partsWritten(), totalFiles)
	// Scale down once every new worker has taken part (not after a share of
	// the load: a fast first worker can leave too little for the others).
	nc, js := d.js()
	defer nc.Close()
	waitFor(t, 2*time.Minute, "every worker to load a file", func() (bool, error) {
		by, err := loadedBy(d.ctx, js)
		if err != nil {
			return false, nil // NATS briefly unreadable: ask again
		}
		for _, n := range all {
			if by[n] == 0 {
				if d.partsWritten() >= totalFiles {
					return false, fmt.Errorf("the load finished before %s loaded a file (%v)", n, by)
				}
				return false, nil
			}
		}
		return true, nil
	})
	t.Logf("scaling 6 -> 2 at %d/%d parts", d.partsWritten(), totalFiles)
	// All four get SIGTERM at once, as `--scale worker=2` does.
	stopping := []string{"w3", "w4", "w5", "w6"}
	errs := make(chan error, len(stopping))
	for _, n := range stopping {
		go func() { // owned here: the loop below waits for each
			drain := time.Minute
			errs <- d.workers[n].Stop(d.ctx, &drain)
		}()
	}
	for range stopping {
		if err := <-errs; err != nil {
			t.Fatalf("stopping a worker: %v", err)
		}
	}
	t.Logf("scaled 6 -> 2, done at %d/%d parts", d.partsWritten(), totalFiles)
	for _, n := range stopping {
		st, err := d.workers[n].State(d.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.ExitCode != 0 || !strings.Contains(containerLogs(d.ctx, d.workers[n]), "worker drained and stopped") {
			t.Errorf("%s did not drain and exit 0 on SIGTERM (exit %d)", n, st.ExitCode)
		}
	}
	wall := d.finish(started)

	by, err := loadedBy(d.ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range all {
		if by[n] == 0 {
			t.Errorf("%s loaded no file: the scaling did not take effect (%v)", n, by)
		}
	}
	report(t, "%6.1fs  files per worker %v", wall.Seconds(), by)
}

// loadedBy counts the loaded files of the load by worker.
func loadedBy(ctx context.Context, js jetstream.JetStream) (map[string]int, error) {
	recs, err := fileRecords(ctx, js)
	if err != nil {
		return nil, err
	}
	by := map[string]int{}
	for _, r := range recs {
		if r.State == messages.StateLoaded {
			by[r.Worker]++
		}
	}
	return by, nil
}

// 8. S3 faults between the fleet and the store: 30% of object GETs answered
// 503 SlowDown, one GET of a fifth of the files cut mid-body with a TCP
// reset, and three files throttled through more deliveries than their retry
// budget (max_attempts 2) allows, for the first half of the load. Nothing is
// lost, a cut body is never committed as a short file, and throttling never
// spends a file's attempts.
func TestS3Faults(t *testing.T) {
	d := newDeployment(t, options{viaProxy: true, maxAttempts: 2})
	// The sixth key of each table in listing order: published early. The
	// pre-flight reads it first (every file's schema, through the same
	// proxy): a probe gives up after at most 30 throttled GETs (5 on a
	// worker, then 5 tries of 5 by the coordinator), 5 more each time its
	// probe task is delivered again, and leaves the file to the load, which must
	// still meet more throttling than two deliveries of 5 tries absorb.
	// (With room for only 30, a redelivered probe task once left a hot file
	// a single throttled delivery, and the count below one short.)
	byTable := map[string][]string{}
	for _, o := range suite.data.Objects {
		table, _, _ := strings.Cut(o.Key, "/")
		if len(o.Data) > 0 && !strings.HasSuffix(o.Key, "_SUCCESS") && !strings.HasSuffix(o.Key, ".crc") {
			byTable[table] = append(byTable[table], o.Key)
		}
	}
	var hot []string
	for _, keys := range byTable {
		sort.Strings(keys)
		hot = append(hot, keys[5])
	}
	const hotThrottles = 30 + 10 + 12 // the probe's most, twice redelivered, then >2 deliveries of the load
	d.setFaults(map[string]any{"slowdown_rate": 0.3, "reset_rate": 0.2, "hot_keys": hot, "hot_throttles": hotThrottles})
	d.startWorkers(fourWorkers...)
	started := time.Now()
	d.startCoordinator()
	waitFor(t, 3*time.Minute, "half the load under faults and the hot files throttled out", func() (bool, error) {
		return d.partsWritten() >= totalFiles/2 && d.proxyStats().HotThrottled == int64(len(hot)*hotThrottles), nil
	})
	st := d.proxyStats()
	d.setFaults(map[string]any{}) // the store recovers
	t.Logf("faults off at %d/%d parts: %+v", d.partsWritten(), totalFiles, st)
	if st.Slowdowns == 0 || st.Resets == 0 {
		t.Errorf("the proxy injected %d slowdowns and %d resets: the case did not exercise both", st.Slowdowns, st.Resets)
	}
	wall := d.finish(started)

	throttled := 0
	for _, n := range fourWorkers {
		throttled += strings.Count(containerLogs(d.ctx, d.workers[n]), "kind=throttled")
	}
	if throttled < 2*len(hot) {
		t.Errorf("workers retried %d throttled deliveries, want at least %d: the S3 client absorbed the throttling", throttled, 2*len(hot))
	}
	report(t, "%6.1fs  %d GETs: %d SlowDown, %d hot-key SlowDown, %d bodies cut; %d throttled deliveries retried",
		wall.Seconds(), st.ObjectGets, st.Slowdowns, st.HotThrottled, st.Resets, throttled)
}

// Listing under throttling: a listing request still refused after the S3
// client's own tries is retried by the coordinator, resuming after the last
// page it handled, so sustained throttling slows a listing but never ends
// the load. With 70% of listing requests throttled, a page fails one time
// in six. The tables are plain Parquet (table_format: parquet), so that the
// suite keeps a load of that format under way.
func TestS3ListingThrottled(t *testing.T) {
	d := newDeployment(t, options{viaProxy: true, plain: true})
	d.setFaults(map[string]any{"list_slowdown_rate": 0.7, "list_max_keys": 20})
	d.startWorkers(fourWorkers...)
	started := time.Now()
	d.startCoordinator()
	wall := d.finish(started)
	checkTheChecker(t, d.out)
	report(t, "%6.1fs  70%% of listing requests throttled; plain Parquet tables", wall.Seconds())
}
