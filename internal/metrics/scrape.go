package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/s3load/s3load/messages"
)

// scrapeTimeout bounds the NATS reads of one scrape.
const scrapeTimeout = 3 * time.Second

var (
	loadFilesDesc = prometheus.NewDesc(namespace+"_load_files",
		"Files of the current load as the coordinator sees them, by table and state (listed, in_flight, loaded, failed, changed, skipped).",
		[]string{"table", "state"}, nil)
	loadRowsDesc = prometheus.NewDesc(namespace+"_load_rows",
		"Rows loaded so far in the current load, by table.", []string{"table"}, nil)
	loadSourceBytesDesc = prometheus.NewDesc(namespace+"_load_source_bytes",
		"Source bytes of the current load by table: listed (every listed file) and done (files final).",
		[]string{"table", "kind"}, nil)
	loadOutputBytesDesc = prometheus.NewDesc(namespace+"_load_output_bytes",
		"Bytes of the parts written so far in the current load, by table.", []string{"table"}, nil)
	tableCommittedDesc = prometheus.NewDesc(namespace+"_table_committed",
		"1 once the table's load is committed, else 0.", []string{"table"}, nil)
	queuePendingDesc = prometheus.NewDesc(namespace+"_queue_pending_tasks",
		"Tasks of the job waiting in JetStream to be delivered (the consumer's pending count).", nil, nil)
	queueAckPendingDesc = prometheus.NewDesc(namespace+"_queue_ack_pending_tasks",
		"Tasks of the job delivered to workers and not yet acked.", nil, nil)
	workersAliveDesc = prometheus.NewDesc(namespace+"_workers_alive",
		"Workers of the job whose announcement is fresh.", nil, nil)
	workersPausedDesc = prometheus.NewDesc(namespace+"_workers_paused",
		"Live workers of the job that take no task now (their store keeps failing).", nil, nil)
)

// scraped is the collector of the figures read when scraped: the
// coordinator's progress, the queue's depth, the fleet. A source not set
// yet (a worker has no progress) contributes nothing.
type scraped struct {
	mu       sync.Mutex
	progress func() messages.ProgressRecord
	depth    func(context.Context) (int, int, error)
	workers  func(context.Context) ([]messages.WorkerRecord, error)
	alive    time.Duration
}

func (s *scraped) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{loadFilesDesc, loadRowsDesc, loadSourceBytesDesc, loadOutputBytesDesc,
		tableCommittedDesc, queuePendingDesc, queueAckPendingDesc, workersAliveDesc, workersPausedDesc} {
		ch <- d
	}
}

func (s *scraped) Collect(ch chan<- prometheus.Metric) {
	s.mu.Lock()
	progress, depth, workers, alive := s.progress, s.depth, s.workers, s.alive
	s.mu.Unlock()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	if progress != nil {
		for _, t := range progress().Tables {
			for state, n := range map[string]int{
				"listed": t.Files, "in_flight": t.InFlight, "loaded": t.Loaded,
				"failed": t.Failed, "changed": t.Changed, "skipped": t.Skipped,
			} {
				gauge(loadFilesDesc, float64(n), t.Table, state)
			}
			gauge(loadRowsDesc, float64(t.Rows), t.Table)
			gauge(loadSourceBytesDesc, float64(t.SourceBytes), t.Table, "listed")
			gauge(loadSourceBytesDesc, float64(t.DoneBytes), t.Table, "done")
			gauge(loadOutputBytesDesc, float64(t.OutputBytes), t.Table)
			committed := 0.0
			if t.Committed {
				committed = 1
			}
			gauge(tableCommittedDesc, committed, t.Table)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	// A figure NATS cannot give now is left out of this scrape rather than
	// reported as zero: a gap reads as unknown, a zero as an empty queue.
	if depth != nil {
		if pending, ackPending, err := depth(ctx); err == nil {
			gauge(queuePendingDesc, float64(pending))
			gauge(queueAckPendingDesc, float64(ackPending))
		}
	}
	if workers != nil {
		if recs, err := workers(ctx); err == nil {
			var live, paused int
			for _, r := range recs {
				if time.Since(r.Updated) > alive {
					continue
				}
				live++
				if r.Paused != "" {
					paused++
				}
			}
			gauge(workersAliveDesc, float64(live))
			gauge(workersPausedDesc, float64(paused))
		}
	}
}
