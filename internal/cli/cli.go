// Package cli owns s3load's command line: it parses flags, builds the
// adapters from the config, and composes the coordinator, the workers and
// an embedded NATS server as actors (oklog/run) for each subcommand.
package cli

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/oklog/run"

	"github.com/s3load/s3load/worker"
)

// Exit codes.
const (
	ExitOK          = 0
	ExitNotComplete = 1 // the load ran, and some table did not commit
	ExitUsage       = 2 // bad flags or config
	ExitFailure     = 3 // the load could not run
)

// Main runs the s3load command line with args (without the program name)
// and returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText())
		return ExitUsage
	}
	defer startProfiles(stderr)()
	var err error
	switch args[0] {
	case "run":
		err = cmdRun(ctx, args[1:], stdout, stderr)
	case "coordinator":
		err = cmdCoordinator(ctx, args[1:], stdout, stderr)
	case "worker":
		err = cmdWorker(ctx, args[1:], stderr)
	case "plan":
		err = cmdPlan(ctx, args[1:], stdout, stderr)
	case "history":
		err = cmdHistory(ctx, args[1:], stdout, stderr)
	case "status":
		err = cmdStatus(ctx, args[1:], stdout, stderr)
	case "check":
		err = cmdCheck(ctx, args[1:], stdout, stderr)
	case "health":
		err = cmdHealth(ctx, args[1:], stdout, stderr)
	case "demo-data":
		err = cmdDemoData(ctx, args[1:], stdout, stderr)
	case "completion":
		err = cmdCompletion(args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "s3load", Version)
		return ExitOK
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usageText())
		return ExitOK
	default:
		fmt.Fprintf(stderr, "s3load: unknown command %q\n\n%s", args[0], usageText())
		return ExitUsage
	}
	var exit exitError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.As(err, &exit):
		if exit.err != nil {
			fmt.Fprintf(stderr, "s3load %s: %v\n", args[0], exit.err)
		}
		return exit.code
	default:
		fmt.Fprintf(stderr, "s3load %s: %v\n", args[0], err)
		return ExitFailure
	}
}

// Version is set at build time with -ldflags "-X ...cli.Version=v1.2.3".
var Version = "dev"

type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return fmt.Sprintf("exit %d: %v", e.code, e.err) }

func usageErr(err error) error { return exitError{code: ExitUsage, err: err} }

// common are the flags every command shares.
type common struct {
	config      string
	natsURL     string
	logLevel    string
	logJSON     bool
	healthAddr  string
	statusAddr  string // run and coordinator only: see registerStatus
	metricsAddr string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.config, "config", "", "path of the load config (YAML); required")
	fs.StringVar(&c.natsURL, "nats", "", "NATS URL; overrides nats.url of the config")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.BoolVar(&c.logJSON, "log-json", false, "log JSON lines instead of text")
	fs.StringVar(&c.healthAddr, "health-addr", "", "serve GET /healthz on this address (e.g. :8081); empty: off")
	fs.StringVar(&c.metricsAddr, "metrics-addr", "", "serve Prometheus metrics at GET /metrics on this address (default: on the --health-addr listener; both empty: off)")
}

func (c *common) logger(stderr io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, usageErr(fmt.Errorf("--log-level: %w", err))
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.logJSON {
		return slog.New(slog.NewJSONHandler(stderr, opts)), nil
	}
	return slog.New(slog.NewTextHandler(stderr, opts)), nil
}

func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	setUsage(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageErr(err)
	}
	if fs.NArg() > 0 {
		return usageErr(fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " ")))
	}
	if err := applyEnv(fs, os.LookupEnv); err != nil {
		return usageErr(err)
	}
	return nil
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "worker"
	}
	return h
}

// addHealth adds the process's HTTP endpoints as actors: /healthz on
// --health-addr; /metrics there too, or on --metrics-addr; a coordinator's
// status page (when page is given) at / of --health-addr and of
// --status-addr. Endpoints that share an address share a listener. A
// worker's own health (can it pull tasks?) counts when w is given.
func (c *common) addHealth(ctx context.Context, g *run.Group, s *session, w *worker.Worker, page http.Handler) error {
	conn := s.conn
	check := func() (bool, string) {
		if !conn.nc.IsConnected() {
			return false, "nats: " + conn.nc.Status().String()
		}
		if w == nil {
			return true, ""
		}
		return w.Health()
	}
	var addrs []string
	byAddr := map[string]*endpoints{}
	at := func(addr string) *endpoints {
		if byAddr[addr] == nil {
			byAddr[addr] = &endpoints{}
			addrs = append(addrs, addr)
		}
		return byAddr[addr]
	}
	if c.healthAddr != "" {
		e := at(c.healthAddr)
		e.check, e.page = check, page
	}
	if page != nil && c.statusAddr != "" {
		e := at(c.statusAddr)
		e.check, e.page = check, page
	}
	if addr := cmp.Or(c.metricsAddr, c.healthAddr); addr != "" {
		at(addr).metrics = s.metrics.Handler()
	}
	for _, addr := range addrs {
		execute, interrupt, err := serveHTTP(ctx, addr, *byAddr[addr])
		if err != nil {
			return err
		}
		g.Add(execute, interrupt)
	}
	return nil
}
