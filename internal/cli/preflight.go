package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/s3load/s3load/internal/s3store"
)

// preflight checks, before anything is loaded, what only a person can fix:
// the source's credentials, bucket and region, and that the target takes
// writes (an s3:// target's credentials, bucket and region too), and that
// limits.temp_dir takes files: the
// start-up checks of storeChecks, which `s3load check` runs too. It stops
// within seconds on any of these, naming the cause and the fix, rather
// than retrying for the load's whole retry budget. NATS has been checked
// by then: connecting fails fast on credentials and TLS. Each table's
// prefix is checked when its table starts, where a problem ends that
// table only.
func (s *session) preflight(ctx context.Context, log *slog.Logger) error {
	// The groups (source, target, temporary disk) run side by side: on
	// remote stores each check is a round trip or more, and the target's
	// alone are four. The first group to fail stops the others; its
	// error is the one reported.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	for _, group := range storeChecks(s.cfg, s.ad) {
		wg.Go(func() {
			if err := s.checkGroup(ctx, log, group); err != nil {
				mu.Lock()
				if first == nil {
					first = err
					cancel()
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return first
}

// checkGroup runs a group's start-up checks in order.
func (s *session) checkGroup(ctx context.Context, log *slog.Logger, group []check) error {
	for _, c := range group {
		if !c.startup {
			continue
		}
		var detail string
		err := s.awaitStore(ctx, log, strings.Fields(c.scope)[0], func() (err error) {
			detail, err = c.run(ctx)
			return err
		})
		if err != nil {
			return exitError{code: ExitFailure, err: fmt.Errorf("%s: %w", c.scope, err)}
		}
		log.Info("checked", "check", c.name, "on", c.target, "result", detail)
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
