package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/s3load/s3load/internal/s3store"
)

// preflight checks, before anything is loaded, what only a person can fix:
// the source's credentials, bucket and region, and that the target takes
// writes (an s3:// target's credentials, bucket and region too). It stops within seconds on any of these, naming the cause
// and the fix, rather than retrying for the load's whole retry budget.
// NATS has been checked by then: connecting fails fast on credentials and
// TLS. Each table's prefix is checked when its table starts, where a
// problem ends that table only.
func (s *session) preflight(ctx context.Context, log *slog.Logger) error {
	var info s3store.BucketInfo
	err := s.awaitStore(ctx, log, "source", func() (err error) {
		info, err = s.ad.source.CheckBucket(ctx, s.cfg.Source.Bucket)
		return err
	})
	if err != nil {
		return exitError{code: ExitFailure, err: fmt.Errorf("source: %w", err)}
	}
	log.Info("source checked", "bucket", s.cfg.Source.Bucket, "region", info.Region, "credentials", info.CredentialSource)
	if s.ad.targetStore != nil {
		err := s.awaitStore(ctx, log, "target", func() (err error) {
			info, err = s.ad.targetStore.CheckBucket(ctx, s.ad.targetBucket)
			return err
		})
		if err != nil {
			return exitError{code: ExitFailure, err: fmt.Errorf("target: %w", err)}
		}
		log.Info("target bucket checked", "bucket", s.ad.targetBucket, "region", info.Region, "credentials", info.CredentialSource)
	}
	// A probe object written and removed in the target, never the source.
	if err := s.awaitStore(ctx, log, "target", func() error { return s.ad.target.Check(ctx) }); err != nil {
		return exitError{code: ExitFailure, err: fmt.Errorf("target %s: %w", s.cfg.Target, err)}
	}
	return nil
}

// awaitStore runs check until it passes, fails for a reason other than an
// unreachable endpoint, or startup_wait has passed: a process started
// beside its S3 server, or restarted during a short outage, waits for it;
// a wrong endpoint is still named within that wait.
func (s *session) awaitStore(ctx context.Context, log *slog.Logger, what string, check func() error) error {
	deadline := time.Now().Add(time.Duration(s.cfg.StartupWait))
	said := false
	for {
		err := check()
		if err == nil || !errors.Is(err, s3store.ErrUnreachable) || time.Now().After(deadline) {
			return err
		}
		if !said {
			log.Warn("waiting for the "+what+" store to answer", "err", err, "up_to", time.Duration(s.cfg.StartupWait))
			said = true
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Second):
		}
	}
}
