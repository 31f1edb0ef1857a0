package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/natsq"
	"github.com/s3load/s3load/internal/s3store"
	"github.com/s3load/s3load/internal/testenv"
	"github.com/s3load/s3load/messages"
)

// listingS3 answers ListObjectsV2 for a bucket of n synthetic objects
// (prefix + an 8-digit number + ".csv", 10 KB each), in pages of up to
// 1000, as real XML: the SDK's request signing, HTTP and XML parsing are
// all paid, without the hours a real store takes to hold a million objects.
func listingS3(n int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("list-type") != "2" {
			http.Error(w, "only ListObjectsV2", http.StatusNotImplemented)
			return
		}
		prefix := q.Get("prefix")
		first := 0
		if tok := q.Get("continuation-token"); tok != "" {
			first, _ = strconv.Atoi(tok)
		} else if after := q.Get("start-after"); after != "" {
			i, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(after, prefix), ".csv"))
			first = i + 1
		}
		maxKeys := 1000
		if m, err := strconv.Atoi(q.Get("max-keys")); err == nil && m > 0 && m < maxKeys {
			maxKeys = m
		}
		end := min(first+maxKeys, n)
		var b strings.Builder
		b.Grow((end - first) * 220)
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`)
		fmt.Fprintf(&b, "<Name>bench</Name><Prefix>%s</Prefix><KeyCount>%d</KeyCount><MaxKeys>%d</MaxKeys><IsTruncated>%t</IsTruncated>",
			prefix, max(end-first, 0), maxKeys, end < n)
		if end < n {
			fmt.Fprintf(&b, "<NextContinuationToken>%d</NextContinuationToken>", end)
		}
		for i := first; i < end; i++ {
			fmt.Fprintf(&b, `<Contents><Key>%s%08d.csv</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>&quot;%032x&quot;</ETag><Size>10000</Size><StorageClass>STANDARD</StorageClass></Contents>`, prefix, i, i)
		}
		b.WriteString("</ListBucketResult>")
		w.Header().Set("Content-Type", "application/xml")
		_, _ = w.Write([]byte(b.String()))
	}
}

// The coordinator's other ports answer at once: the benchmark measures
// listing, recording and publishing, not probing or committing.
type (
	instantProbe struct{}
	firstSchema  struct{}
	neverCommit  struct{}
)

func (instantProbe) ProbeSchema(context.Context, string, messages.Source) ([]byte, error) {
	return []byte{1}, nil
}

func (firstSchema) MergeSchemas(_ context.Context, _ string, _ []byte, groups []coordinator.SchemaGroup) (coordinator.MergedSchema, error) {
	return coordinator.MergedSchema{Schema: groups[0].Schema, Misfits: make([]string, len(groups))}, nil
}

func (neverCommit) IsPermanent(error) bool { return false }
func (neverCommit) Prepare(context.Context, coordinator.PrepareRequest) (coordinator.Prepared, error) {
	return coordinator.Prepared{}, nil
}
func (neverCommit) Commit(context.Context, coordinator.CommitRequest) (coordinator.CommitResult, error) {
	return coordinator.CommitResult{}, nil
}

// phases add up where a listing's time goes: in the store's listing
// (callbacks excluded), in recording files, in publishing tasks.
type phases struct{ list, record, publish atomic.Int64 }

type timedLister struct {
	*s3store.Store
	p *phases
}

func (l timedLister) List(ctx context.Context, bucket, prefix, after string, fn func([]messages.Source) error) error {
	start, inFn := time.Now(), time.Duration(0)
	err := l.Store.List(ctx, bucket, prefix, after, func(page []messages.Source) error {
		t := time.Now()
		defer func() { inFn += time.Since(t) }()
		return fn(page)
	})
	l.p.list.Add(int64(time.Since(start) - inFn))
	return err
}

type timedState struct {
	*natsq.State
	p *phases
}

func (s timedState) CreateFiles(ctx context.Context, recs []messages.FileRecord) ([]uint64, error) {
	defer func(t time.Time) { s.p.record.Add(int64(time.Since(t))) }(time.Now())
	return s.State.CreateFiles(ctx, recs)
}

type timedQueue struct {
	*natsq.Queue
	p *phases
}

func (q timedQueue) Publish(ctx context.Context, tasks ...messages.Task) error {
	defer func(t time.Time) { q.p.publish.Add(int64(time.Since(t))) }(time.Now())
	return q.Queue.Publish(ctx, tasks...)
}

// BenchmarkListing: a table of 100,000 or 1,000,000 objects, from the
// coordinator's start to its table record saying "listed": the pre-flight's
// listing, then listing again while recording every file in the NATS KV
// state and publishing its tasks on the JetStream queue. Real pieces: the
// aws-sdk-go-v2 client of internal/s3store over HTTP (against listingS3),
// natsq's State and Queue, an in-process nats-server on file storage. The
// prober answers at once (no workers run). Reports keys/s, seconds and the
// process's peak RSS (VmHWM, reset before each run; it includes the NATS
// server and the fake S3 in this process).
//
// With S3LOAD_BENCH_NATS_PROCESS=1 the NATS server runs as its own process
// ($S3LOAD_NATS_SERVER), as it does in a deployment: peak-RSS-MB is then the
// coordinator's (and the fake S3's), nats-peak-RSS-MB the server's, and
// the state bucket flushes each write, as against any separate server.
// With S3LOAD_BENCH_HEAP=run the process keeps to the heap limit `s3load
// run` keeps to with one worker (keepMemoryLimit), as a run that lists
// the bucket does; GOMEMLIMIT=176MiB instead is that limit held fixed.
//
//	go test -run XXX -bench BenchmarkListing -benchtime 1x ./internal/cli
func BenchmarkListing(b *testing.B) {
	if os.Getenv("S3LOAD_BENCH_HEAP") == "run" {
		before := debug.SetMemoryLimit(-1)
		defer debug.SetMemoryLimit(before)
		defer keepMemoryLimit(1, slog.New(slog.DiscardHandler))()
	}
	for _, keys := range []int{100_000, 1_000_000} {
		b.Run(strconv.Itoa(keys), func(b *testing.B) {
			srv := httptest.NewServer(listingS3(keys))
			defer srv.Close()
			store, err := s3store.New(context.Background(), s3store.Config{
				Region: "us-east-1", Endpoint: srv.URL, PathStyle: true,
				AccessKeyID: "AKBENCH", SecretAccessKey: "bench-secret-0123456789",
			})
			if err != nil {
				b.Fatal(err)
			}
			var total time.Duration
			var hwm, natsHWM int64
			var p phases
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				resetPeakRSS(b)
				cpu0 := cpuTime(b)
				d := listOnce(b, store, keys, &p, &natsHWM)
				cpu += cpuTime(b) - cpu0
				total += d
				hwm = max(hwm, peakRSS(b))
				b.StartTimer()
			}
			b.ReportMetric(float64(keys*b.N)/total.Seconds(), "keys/s")
			b.ReportMetric(total.Seconds()/float64(b.N), "s/listing")
			b.ReportMetric(float64(hwm)/(1<<20), "peak-RSS-MB")
			if natsHWM > 0 {
				b.ReportMetric(float64(natsHWM)/(1<<20), "nats-peak-RSS-MB")
			}
			// CPU seconds of the whole process (coordinator, NATS server and
			// fake S3 alike): on a shared machine, steadier than wall time.
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s")
			b.ReportMetric(time.Duration(p.list.Load()).Seconds()/float64(b.N), "s-listing-store")
			b.ReportMetric(time.Duration(p.record.Load()).Seconds()/float64(b.N), "s-recording")
			b.ReportMetric(time.Duration(p.publish.Load()).Seconds()/float64(b.N), "s-publishing")
		})
	}
}

// listOnce runs a coordinator against a fresh NATS server until the table
// is listed, and returns how long that took.
func listOnce(b *testing.B, store *s3store.Store, keys int, p *phases, natsHWM *int64) time.Duration {
	b.Helper()
	ctx := context.Background()
	nsrv := startBenchNATS(b)
	defer nsrv.stop()
	nc, js, err := natsq.Connect(ctx, natsq.ConnectOptions{URL: nsrv.url, Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	q, err := natsq.OpenQueue(ctx, js, "bench", natsq.Options{})
	if err != nil {
		b.Fatal(err)
	}
	// As `s3load run` opens it with its embedded server, and as a fleet's
	// coordinator with a server of its own (queueOptions).
	st, err := natsq.OpenState(ctx, js, natsq.Options{AsyncPersist: nsrv.pid == 0})
	if err != nil {
		b.Fatal(err)
	}
	co, err := coordinator.New(coordinator.Config{Job: "bench", Bucket: "bench", Tables: []coordinator.Table{{Name: "t", Prefix: "t/"}}, ProbeLocalMax: 1 << 30},
		coordinator.Ports{Lister: timedLister{store, p}, Prober: instantProbe{}, Merger: firstSchema{}, Queue: timedQueue{q, p}, State: timedState{st, p}, Leases: st, Committer: neverCommit{}})
	if err != nil {
		b.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	start := time.Now()
	go func() { // owned here: cancelled and waited for below
		_, err := co.Run(runCtx)
		done <- err
	}()
	var took time.Duration
	for took == 0 {
		select {
		case err := <-done:
			cancel()
			b.Fatalf("coordinator ended before the table was listed: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
		rec, _, err := st.Load(ctx, "bench")
		if err != nil {
			continue
		}
		if tr, _, err := st.Table(ctx, rec.LoadID, "t"); err == nil && tr.Listed {
			took = time.Since(start)
			if tr.Files != keys {
				b.Fatalf("listed %d files, want %d", tr.Files, keys)
			}
		}
	}
	*natsHWM = max(*natsHWM, nsrv.peakRSS(b))
	cancel()
	<-done
	// Every file's task published: small files are batched across pages.
	want := (keys + coordinator.DefaultBatchFiles - 1) / coordinator.DefaultBatchFiles
	if n, err := q.Backlog(ctx, "t"); err != nil || n != want {
		b.Fatalf("backlog %d (%v), want %d tasks", n, err, want)
	}
	return took
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// resetPeakRSS resets the process's VmHWM (Linux: clear_refs 5).
func resetPeakRSS(b *testing.B) {
	b.Helper()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Logf("cannot reset peak RSS: %v", err)
	}
}

// peakRSS reads the process's VmHWM in bytes.
func peakRSS(b *testing.B) int64 {
	b.Helper()
	return vmHWM(b, "/proc/self/status")
}

// vmHWM reads the VmHWM of a process's status file, in bytes.
func vmHWM(b *testing.B, status string) int64 {
	b.Helper()
	data, err := os.ReadFile(status)
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatalf("no VmHWM in %s", status)
	return 0
}

// benchNATS is the NATS server of one listing.
type benchNATS struct {
	url  string
	stop func()
	pid  int // of the server's own process; 0 when it runs in this one
}

// startBenchNATS starts a NATS server with JetStream on a fresh directory:
// in this process, or as a process of its own with
// S3LOAD_BENCH_NATS_PROCESS=1.
func startBenchNATS(b *testing.B) benchNATS {
	b.Helper()
	if os.Getenv("S3LOAD_BENCH_NATS_PROCESS") == "" {
		nsrv, err := natsq.StartEmbedded(b.TempDir(), "127.0.0.1", 0)
		if err != nil {
			b.Fatal(err)
		}
		return benchNATS{url: nsrv.URL(), stop: nsrv.Shutdown}
	}
	bin := os.Getenv("S3LOAD_NATS_SERVER")
	if bin == "" {
		b.Fatal("S3LOAD_BENCH_NATS_PROCESS needs S3LOAD_NATS_SERVER, the nats-server binary")
	}
	port, mon := testenv.FreePort(b), testenv.FreePort(b)
	cmd := exec.Command(bin, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-m", strconv.Itoa(mon), "-js", "-sd", b.TempDir())
	if err := cmd.Start(); err != nil {
		b.Fatalf("starting %s: %v", bin, err)
	}
	stop := func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	// Ready when its health endpoint says so, JetStream included.
	health := fmt.Sprintf("http://127.0.0.1:%d/healthz", mon)
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := http.Get(health)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			stop()
			b.Fatalf("nats-server not healthy after 30s: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return benchNATS{url: fmt.Sprintf("nats://127.0.0.1:%d", port), stop: stop, pid: cmd.Process.Pid}
}

// peakRSS is the server process's VmHWM in bytes, 0 for a server in this
// process (counted in this process's).
func (n benchNATS) peakRSS(b *testing.B) int64 {
	b.Helper()
	if n.pid == 0 {
		return 0
	}
	return vmHWM(b, fmt.Sprintf("/proc/%d/status", n.pid))
}
