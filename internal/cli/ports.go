package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/s3store"
	"github.com/s3load/s3load/internal/target"
	"github.com/s3load/s3load/messages"
)

// coordinatorPorts are the adapters the coordinator works through.
func (s *session) coordinatorPorts() coordinator.Ports {
	return coordinator.Ports{
		Lister:    sourceLister{s.ad.source},
		Prober:    s.ad.pipeline,
		Queue:     s.conn.queue,
		State:     s.conn.state,
		Leases:    s.conn.state,
		Fleet:     s.conn.state,
		Committer: committer{s.ad.target},
	}
}

// sourceLister is the source store as the coordinator's Lister.
type sourceLister struct{ *s3store.Store }

func (sourceLister) IsPermanent(err error) bool { return false }

// committer is the target as the coordinator's Committer.
type committer struct{ *target.Target }

func (committer) IsPermanent(err error) bool { return false }

// sourceProbe asks the source store one cheap question, for a worker
// paused by a run of failures.
type sourceProbe struct {
	store  *s3store.Store
	bucket string
}

func (p sourceProbe) Probe(ctx context.Context) error {
	err := p.store.List(ctx, p.bucket, "", "", func([]messages.Source) error { return errStopProbe })
	if errors.Is(err, errStopProbe) {
		return nil
	}
	return err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

var errStopProbe = errors.New("probe answered")
