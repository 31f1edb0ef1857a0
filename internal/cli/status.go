package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/config"
	"github.com/s3load/s3load/internal/natsq"
	"github.com/s3load/s3load/internal/status"
)

// statusWait bounds how long status waits for NATS, and each read of the
// state store: a status that hangs tells nobody anything.
const statusWait = 5 * time.Second

// cmdStatus prints the live status of the config's job as the fleet's
// NATS holds it; it needs no access to S3.
func cmdStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "path of the load config (YAML); required: it names the job")
	natsURL := fs.String("nats", "", "NATS URL; overrides nats.url of the config")
	watch := fs.Bool("watch", false, "redraw every 2s until interrupted")
	asJSON := fs.Bool("json", false, "print a JSON object (with --watch: one per line)")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if *cfgPath == "" {
		return usageErr(errors.New("--config is required"))
	}
	// Status never talks to S3: a watching host needs no S3 secrets.
	c, err := config.LoadForWatching(*cfgPath)
	if err != nil {
		return usageErr(err)
	}
	if *natsURL != "" {
		c.NATS.URL = *natsURL
	}
	if c.NATS.URL == "" {
		return usageErr(errors.New("--nats (or nats.url in the config) is required: status reads the fleet's NATS (an `s3load run` shows its progress on stderr, and on a page with --status-addr; `s3load history --state-dir` reads its state once it ended)"))
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	// A second more than the connection's wait, so that its error (which
	// names the URL and the last failure) is the one reported.
	cctx, cancel := context.WithTimeout(ctx, statusWait+time.Second)
	defer cancel()
	nc, js, err := natsq.Connect(cctx, natsOptions(c.NATS.URL, "s3load-status", c.NATS, statusWait, log))
	if err != nil {
		return exitError{code: ExitFailure, err: err}
	}
	defer nc.Close()
	st, err := natsq.OpenState(cctx, js, queueOptions(c))
	if err != nil {
		return exitError{code: ExitFailure, err: fmt.Errorf("opening the state store at nats %s: %w", natsq.RedactURL(c.NATS.URL), err)}
	}

	job, workerTimeout := jobID(c), time.Duration(c.NATS.AckWait)
	read := func(ctx context.Context) (status.Snapshot, error) {
		rctx, cancel := context.WithTimeout(ctx, statusWait)
		defer cancel()
		return status.Read(rctx, st, job, time.Now(), workerTimeout)
	}
	show := func(s status.Snapshot) error {
		if *asJSON {
			return s.WriteJSON(stdout)
		}
		return s.WriteText(stdout)
	}
	if !*watch {
		snap, err := read(ctx)
		if err != nil {
			return exitError{code: ExitFailure, err: fmt.Errorf("reading the status at nats %s: %w", natsq.RedactURL(c.NATS.URL), err)}
		}
		return show(snap)
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	tty := !*asJSON && isTerminal(stdout)
	tick := time.NewTicker(coordinator.ProgressInterval)
	defer tick.Stop()
	for first := true; ; first = false {
		snap, err := read(ctx)
		if ctx.Err() != nil {
			return nil
		}
		switch {
		case tty:
			fmt.Fprint(stdout, "\x1b[H\x1b[2J") // home, clear: redraw in place
			fmt.Fprintf(stdout, "s3load status, every %s (Ctrl-C to stop), %s\n", coordinator.ProgressInterval, time.Now().UTC().Format(time.RFC3339))
		case !*asJSON:
			if !first {
				fmt.Fprintln(stdout)
			}
			fmt.Fprintf(stdout, "--- %s\n", time.Now().UTC().Format(time.RFC3339))
		}
		if err != nil {
			// NATS may be away for a while: say so and keep watching.
			fmt.Fprintf(stderr, "s3load status: reading the status at nats %s: %v\n", natsq.RedactURL(c.NATS.URL), err)
		} else if err := show(snap); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
