package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/s3store"
)

// coordinatorPorts are the adapters the coordinator works through.
func (s *session) coordinatorPorts() coordinator.Ports {
	p := coordinator.Ports{
		Lister:        s.ad.source,
		Prober:        s.ad.pipeline,
		Merger:        s.ad.pipeline,
		Queue:         s.conn.queue,
		State:         s.conn.state,
		Leases:        s.conn.state,
		Fleet:         s.conn.state,
		Committer:     s.ad.target,
		Locker:        s.ad.target,
		Reuse:         s.ad.target,
		ProgressStore: s.conn.state,
		History:       s.conn.state,
	}
	if s.ad.lake != nil {
		p.Committer, p.Locker, p.Reuse, p.Splits = s.ad.lake, s.ad.lake, s.ad.lake, s.ad.lake
	}
	p.Committer = s.metrics.TimeCommits(p.Committer)
	return p
}

// sourceProbe asks the source store one cheap question, for a worker
// paused by a run of failures.
type sourceProbe struct {
	store  *s3store.Store
	bucket string
}

func (p sourceProbe) Probe(ctx context.Context) error {
	_, _, err := p.store.ProbePrefix(ctx, p.bucket, "")
	return err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
