package cli

import (
	"context"
	"errors"
	"flag"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/natsq"
	"github.com/s3load/s3load/internal/status"
	"github.com/s3load/s3load/internal/statuspage"
	"github.com/s3load/s3load/messages"
)

// registerStatus adds --status-addr to run and coordinator. The page is
// always served at / of --health-addr when that is set; --status-addr is
// for a page without a health endpoint in mind (`s3load run` on a laptop),
// or on another interface than the health checks'.
func (c *common) registerStatus(fs *flag.FlagSet) {
	fs.StringVar(&c.statusAddr, "status-addr", "", "also serve the live status page (and /healthz) on this address, e.g. 127.0.0.1:8080; the page is on --health-addr too; empty: only there")
}

// statusPage is the live status page of the session's job: its status as
// `s3load status` reads it (status.Read), but with the progress of the
// coordinator this process runs, live, once it has a load; and the job's
// last loads.
func (s *session) statusPage() http.Handler {
	rd := liveReader{State: s.conn.state, live: &s.live}
	workerTimeout := time.Duration(s.cfg.NATS.AckWait)
	return statuspage.New(statuspage.Source{
		Job: s.job,
		Status: func(ctx context.Context, now time.Time) (status.Snapshot, error) {
			return status.Read(ctx, rd, s.job, now, workerTimeout)
		},
		History: s.lastLoads,
	}, s.log)
}

// liveReader is the state store, but for the progress of a load this
// process coordinates: its coordinator's own view, fresher than the record
// it writes every few seconds.
type liveReader struct {
	*natsq.State
	live *atomic.Pointer[coordinator.Coordinator]
}

func (r liveReader) Progress(ctx context.Context, job string) (messages.ProgressRecord, error) {
	if co := r.live.Load(); co != nil {
		if p := co.Progress(); p.LoadID != "" && p.Job == job {
			return p, nil
		}
	}
	return r.State.Progress(ctx, job)
}

// recentLoads is how many past loads the page shows.
const recentLoads = 10

// lastLoads is the page's history: the job's last ended loads, newest
// first, from the history the coordinator keeps in the state store.
func (s *session) lastLoads(ctx context.Context) ([]messages.LoadRecord, error) {
	recs, err := s.conn.state.History(ctx, s.job)
	if errors.Is(err, messages.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return recs[:min(len(recs), recentLoads)], nil // newest first
}
