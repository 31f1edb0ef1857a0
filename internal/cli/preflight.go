package cli

import (
	"context"
	"fmt"
	"log/slog"
)

// preflight checks, before anything is loaded, what only a person can fix:
// the source's credentials, bucket and region, and that the target takes
// writes (an s3:// target's credentials, bucket and region too). It stops within seconds on any of these, naming the cause
// and the fix, rather than retrying for the load's whole retry budget.
// NATS has been checked by then: connecting fails fast on credentials and
// TLS. Each table's prefix is checked when its table starts, where a
// problem ends that table only.
func (s *session) preflight(ctx context.Context, log *slog.Logger) error {
	info, err := s.ad.source.CheckBucket(ctx, s.cfg.Source.Bucket)
	if err != nil {
		return exitError{code: ExitFailure, err: fmt.Errorf("source: %w", err)}
	}
	log.Info("source checked", "bucket", s.cfg.Source.Bucket, "region", info.Region, "credentials", info.CredentialSource)
	if s.ad.targetStore != nil {
		info, err := s.ad.targetStore.CheckBucket(ctx, s.ad.targetBucket)
		if err != nil {
			return exitError{code: ExitFailure, err: fmt.Errorf("target: %w", err)}
		}
		log.Info("target bucket checked", "bucket", s.ad.targetBucket, "region", info.Region, "credentials", info.CredentialSource)
	}
	// A probe object written and removed in the target, never the source.
	if err := s.ad.target.Check(ctx); err != nil {
		return exitError{code: ExitFailure, err: fmt.Errorf("target %s: %w", s.cfg.Target, err)}
	}
	return nil
}
