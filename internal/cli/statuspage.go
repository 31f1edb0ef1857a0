package cli

import (
	"context"
	"errors"
	"flag"
	"net/http"

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

// statusPage is the live status page of the session's job: the progress of
// the coordinator it runs (or, until it has a load, the last one written to
// the state store by whichever coordinator holds the lease), the workers
// and the job's last load.
func (s *session) statusPage() http.Handler {
	return statuspage.New(statuspage.Source{
		Job:      s.job,
		Progress: s.progress,
		Workers:  func(ctx context.Context) ([]messages.WorkerRecord, error) { return s.conn.state.Workers(ctx, s.job) },
		History:  s.lastLoads,
	}, s.log)
}

func (s *session) progress(ctx context.Context) (messages.ProgressRecord, error) {
	if co := s.live.Load(); co != nil {
		if p := co.Progress(); p.LoadID != "" {
			return p, nil
		}
	}
	return s.conn.state.Progress(ctx, s.job)
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
