// Package metrics exposes what a coordinator and a worker do as Prometheus
// metrics: it implements the worker's and the S3 client's observers, times
// the coordinator's commits, and reads the coordinator's progress, the
// queue's depth and the fleet's announcements when scraped. Each process
// has its own registry (no global one). Labels are the table, the file
// state, the S3 operation and the outcome: never an object key, a bucket
// or anything secret.
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/s3store"
	"github.com/s3load/s3load/messages"
	"github.com/s3load/s3load/worker"
)

const namespace = "s3load"

// durationBuckets span a small file's milliseconds to a big range's or
// a big table's commit's minutes (5 ms to about 12 min).
var durationBuckets = prometheus.ExponentialBuckets(0.005, 2.5, 14)

// Metrics is one process's metrics.
type Metrics struct {
	reg *prometheus.Registry

	tasksInFlight prometheus.Gauge
	redelivered   *prometheus.CounterVec
	files         *prometheus.CounterVec
	rows          *prometheus.CounterVec
	sourceBytes   *prometheus.CounterVec
	partBytes     *prometheus.CounterVec
	decode        *prometheus.HistogramVec
	write         *prometheus.HistogramVec
	commit        *prometheus.HistogramVec
	s3            *prometheus.CounterVec

	scrape *scraped
}

// New builds a process's metrics on a registry of its own, with the Go
// runtime's and the process's collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		tasksInFlight: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "tasks_in_flight",
			Help: "Tasks this worker process is handling now."}),
		redelivered: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "redeliveries_total",
			Help: "Tasks received again after an earlier delivery was not acked (a worker died, stalled or handed it back)."}, []string{"table"}),
		files: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "files_settled_total",
			Help: "File records this worker process settled, by final state (loaded, failed, changed, merged); a split file's ranges count each."}, []string{"table", "state"}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "rows_loaded_total",
			Help: "Rows of the files this worker process loaded."}, []string{"table"}),
		sourceBytes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "source_bytes_loaded_total",
			Help: "Source bytes (object sizes, or byte ranges of split files) this worker process loaded."}, []string{"table"}),
		partBytes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "part_bytes_written_total",
			Help: "Bytes of the Parquet parts this worker process wrote."}, []string{"table"}),
		decode: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "decode_duration_seconds",
			Help: "Time a part took to fetch and decode its files into, per part written.", Buckets: durationBuckets}, []string{"table"}),
		write: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "write_duration_seconds",
			Help: "Time a part took to finish and store in the target, per part written.", Buckets: durationBuckets}, []string{"table"}),
		commit: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "commit_duration_seconds",
			Help: "Time each table commit attempt took, by outcome (ok, error).", Buckets: durationBuckets}, []string{"table", "outcome"}),
		s3: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "s3_requests_total",
			Help: "S3 request attempts (retries included), by store (source, target), operation and outcome (ok, throttled, client_error, server_error, network_error, canceled)."}, []string{"store", "operation", "outcome"}),
		scrape: &scraped{},
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.tasksInFlight, m.redelivered, m.files, m.rows, m.sourceBytes, m.partBytes,
		m.decode, m.write, m.commit, m.s3, m.scrape,
	)
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, ErrorHandling: promhttp.ContinueOnError})
}

// Registry is the process's registry.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Worker is the worker observer that counts into m.
func (m *Metrics) Worker() worker.Observer { return workerObserver{m} }

// S3 is the request observer of one store ("source" or "target") that
// counts into m.
func (m *Metrics) S3(store string) s3store.RequestObserver { return s3Observer{m: m, store: store} }

type s3Observer struct {
	m     *Metrics
	store string
}

func (o s3Observer) S3Request(operation, outcome string) {
	o.m.s3.WithLabelValues(o.store, operation, outcome).Inc()
}

type workerObserver struct{ m *Metrics }

func (o workerObserver) TaskStarted() { o.m.tasksInFlight.Inc() }
func (o workerObserver) TaskEnded()   { o.m.tasksInFlight.Dec() }
func (o workerObserver) Redelivered(table string) {
	o.m.redelivered.WithLabelValues(table).Inc()
}

func (o workerObserver) FileSettled(table string, state messages.FileState, rows, sourceBytes int64) {
	o.m.files.WithLabelValues(table, string(state)).Inc()
	if state == messages.StateLoaded {
		o.m.rows.WithLabelValues(table).Add(float64(rows))
		o.m.sourceBytes.WithLabelValues(table).Add(float64(sourceBytes))
	}
}

func (o workerObserver) PartWritten(table string, partBytes int64, decode, write time.Duration) {
	o.m.partBytes.WithLabelValues(table).Add(float64(partBytes))
	o.m.decode.WithLabelValues(table).Observe(decode.Seconds())
	o.m.write.WithLabelValues(table).Observe(write.Seconds())
}

// TimeCommits wraps a coordinator's committer so that each commit attempt
// is timed.
func (m *Metrics) TimeCommits(c coordinator.Committer) coordinator.Committer {
	return timedCommitter{Committer: c, m: m}
}

type timedCommitter struct {
	coordinator.Committer
	m *Metrics
}

func (t timedCommitter) Commit(ctx context.Context, req coordinator.CommitRequest) (coordinator.CommitResult, error) {
	start := time.Now()
	res, err := t.Committer.Commit(ctx, req)
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	t.m.commit.WithLabelValues(req.Table, outcome).Observe(time.Since(start).Seconds())
	return res, err
}

// WatchProgress makes every scrape read the load's progress from
// progress (a coordinator's Progress), replacing an earlier source.
func (m *Metrics) WatchProgress(progress func() messages.ProgressRecord) {
	m.scrape.mu.Lock()
	defer m.scrape.mu.Unlock()
	m.scrape.progress = progress
}

// WatchQueue makes every scrape read the task queue's depth from depth
// (natsq's Queue.Depth).
func (m *Metrics) WatchQueue(depth func(ctx context.Context) (pending, ackPending int, err error)) {
	m.scrape.mu.Lock()
	defer m.scrape.mu.Unlock()
	m.scrape.depth = depth
}

// WatchWorkers makes every scrape count the workers whose announcement
// (from workers) is younger than alive.
func (m *Metrics) WatchWorkers(workers func(ctx context.Context) ([]messages.WorkerRecord, error), alive time.Duration) {
	m.scrape.mu.Lock()
	defer m.scrape.mu.Unlock()
	m.scrape.workers, m.scrape.alive = workers, alive
}
