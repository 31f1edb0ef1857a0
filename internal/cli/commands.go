package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/oklog/run"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/config"
	"github.com/s3load/s3load/internal/decode"
	"github.com/s3load/s3load/internal/metrics"
	"github.com/s3load/s3load/internal/natsq"
	"github.com/s3load/s3load/messages"
	"github.com/s3load/s3load/worker"
)

func loadConfig(path string) (config.Config, error) {
	if path == "" {
		return config.Config{}, usageErr(errors.New("--config is required"))
	}
	c, err := config.Load(path)
	if err != nil {
		return c, usageErr(err)
	}
	return c, nil
}

type reportFlags struct{ jsonPath string }

func (r *reportFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&r.jsonPath, "report-json", "", "also write the load report as JSON to this file")
}

// session is what every command starts from: the config with the flags'
// overrides, the logger, the job, the adapters and the NATS connection.
type session struct {
	cfg  config.Config
	log  *slog.Logger
	spec messages.JobSpec
	job  string
	ad   *adapters
	conn *natsConn
	// live is the coordinator this session built last, for its status page.
	live atomic.Pointer[coordinator.Coordinator]
	// metrics are this process's, served on /metrics.
	metrics *metrics.Metrics
}

// configure loads the config, applies the shared flags and builds the
// logger.
func (cf *common) configure(stderr io.Writer) (config.Config, *slog.Logger, error) {
	c, err := loadConfig(cf.config)
	if err != nil {
		return c, nil, err
	}
	if cf.natsURL != "" {
		c.NATS.URL = cf.natsURL
	}
	log, err := cf.logger(stderr)
	return c, log, err
}

func openSession(ctx context.Context, c config.Config, log *slog.Logger, natsURL, client string) (*session, error) {
	spec := jobSpec(c)
	m := metrics.New()
	ad, err := buildAdapters(ctx, c, m)
	if err != nil {
		return nil, err
	}
	conn, err := connectNATS(ctx, natsURL, client, spec.ID(), c, log)
	if err != nil {
		return nil, exitError{code: ExitFailure, err: err}
	}
	m.WatchQueue(conn.queue.Depth)
	s := &session{cfg: c, log: log, spec: spec, job: spec.ID(), ad: ad, conn: conn, metrics: m}
	if err := s.preflight(ctx, log); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// close flushes what the session still has to say (the naks of tasks handed
// back on a stop) and closes the connection.
func (s *session) close() {
	_ = s.conn.nc.FlushTimeout(2 * time.Second)
	s.conn.nc.Close()
}

// addCoordinator adds the coordinator actor; the group ends when it does,
// and the report is filled in by then, interrupted or not.
func (s *session) addCoordinator(ctx context.Context, g *run.Group, fullReload bool, pv *progressView) *coordinator.Report {
	report := new(coordinator.Report)
	ctx, stop := context.WithCancel(ctx)
	g.Add(func() error {
		defer pv.finished()
		r, err := runCoordinator(ctx, s, fullReload, pv)
		*report = r
		return err
	}, func(error) { stop() })
	return report
}

// newWorker builds a worker of the session's job; wrap, if given, wraps
// its loader (tests use it to slow, gate or count loads).
func (s *session) newWorker(id string, slots int, wrap func(worker.Loader) worker.Loader) (*worker.Worker, error) {
	wcfg := workerConfig(s.cfg, id, slots)
	wcfg.Logger = s.log.With("worker", id)
	wcfg.Registry = s.conn.state
	wcfg.Probe = sourceProbe{store: s.ad.source, bucket: s.cfg.Source.Bucket}
	wcfg.Prober = s.ad.pipeline
	wcfg.Observer = s.metrics.Worker()
	var loader worker.Loader = s.ad.pipeline
	if wrap != nil {
		loader = wrap(loader)
	}
	return worker.New(wcfg, deliveries{s.conn.queue}, s.conn.state, loader)
}

// finishLoad turns the end of a run or coordinator group into the report and
// the exit code; resume tells the user how to pick an interrupted load up.
// An interrupted load still prints what it got done.
func finishLoad(err error, report *coordinator.Report, rf reportFlags, stdout io.Writer, resume string) error {
	var sig *run.SignalError
	switch {
	case errors.As(err, &sig):
		return interrupted(report, stdout, "interrupted by "+sig.Signal.String(), resume)
	case err != nil && report.Interrupted:
		return interrupted(report, stdout, err.Error(), resume)
	case err != nil:
		return err
	}
	return finishReport(*report, rf, stdout)
}

// interrupted prints what an interrupted load got done and says how to
// finish it.
func interrupted(report *coordinator.Report, stdout io.Writer, why, resume string) error {
	if len(report.Tables) > 0 {
		_ = report.WriteText(stdout)
	}
	return exitError{code: ExitFailure, err: fmt.Errorf("%s; %s", why, resume)}
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var cf common
	var rf reportFlags
	var pf progressFlags
	cf.register(fs)
	cf.registerStatus(fs)
	rf.register(fs)
	pf.register(fs)
	workers := fs.Int("workers", 0, "in-process workers; overrides workers of the config")
	stateDir := fs.String("state-dir", "", "embedded NATS storage; kept so that a load that was interrupted or did not commit is finished by the next run (default: $XDG_STATE_HOME/s3load/<job>, else ~/.local/state/s3load/<job>)")
	fullReload := fs.Bool("full-reload", false, "start a new load even if the last one did not finish: load every file again")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	pv, err := pf.open(stderr, cf.logJSON)
	if err != nil {
		return err
	}
	c, log, err := cf.configure(pv.logOutput())
	if err != nil {
		return err
	}
	if *workers > 0 {
		c.Workers = *workers
	}
	defer keepMemoryLimit(c.Workers, log)()
	natsURL := c.NATS.URL
	if natsURL == "" {
		dir := *stateDir
		if dir == "" {
			if dir, err = defaultStateDir(jobID(c)); err != nil {
				return err
			}
		}
		unlock, err := lockStateDir(dir)
		if err != nil {
			return err
		}
		defer unlock()
		srv, err := natsq.StartEmbedded(dir, "127.0.0.1", 0)
		if err != nil {
			return err
		}
		defer srv.Shutdown()
		natsURL = srv.URL()
		log.Info("embedded nats started", "url", natsURL, "store", dir)
	}
	s, err := openSession(ctx, c, log, natsURL, "s3load-run")
	if err != nil {
		return err
	}
	defer s.close()
	// The coordinator and the workers share this process: a small file the
	// pre-flight reads is loaded from those bytes. A fleet's worker would
	// rarely load a file it probed, and would spool it for nothing.
	defer s.ad.pipeline.KeepProbedFiles(s.ad.temp)()

	var g run.Group
	report := s.addCoordinator(ctx, &g, *fullReload, pv)
	pv.add(&g, log)
	w, err := s.newWorker(hostname()+"-run", c.Workers, nil)
	if err != nil {
		return err
	}
	fetchCtx, stopFetch := context.WithCancel(ctx)
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	g.Add(func() error { return w.Run(fetchCtx, workCtx) }, func(error) {
		stopFetch()
		stopWork() // the coordinator is done or gone: files in hand go back to the queue
	})
	g.Add(run.SignalHandler(ctx, os.Interrupt, syscall.SIGTERM))
	if err := cf.addHealth(ctx, &g, s, w, s.statusPage()); err != nil {
		return err
	}
	resume := "run the same command again to finish the load (the state is kept in NATS)"
	return finishLoad(g.Run(), report, rf, stdout, resume)
}

func cmdCoordinator(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("coordinator", flag.ContinueOnError)
	var cf common
	var rf reportFlags
	var pf progressFlags
	cf.register(fs)
	cf.registerStatus(fs)
	rf.register(fs)
	pf.register(fs)
	fullReload := fs.Bool("full-reload", false, "start a new load even if the last one did not finish: load every file again")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	pv, err := pf.open(stderr, cf.logJSON)
	if err != nil {
		return err
	}
	c, log, err := cf.configure(pv.logOutput())
	if err != nil {
		return err
	}
	if c.NATS.URL == "" {
		return usageErr(errors.New("--nats (or nats.url in the config) is required; use `s3load run` for an embedded server"))
	}
	s, err := openSession(ctx, c, log, c.NATS.URL, "s3load-coordinator")
	if err != nil {
		return err
	}
	defer s.close()

	var g run.Group
	report := s.addCoordinator(ctx, &g, *fullReload, pv)
	pv.add(&g, log)
	g.Add(run.SignalHandler(ctx, os.Interrupt, syscall.SIGTERM))
	if err := cf.addHealth(ctx, &g, s, nil, s.statusPage()); err != nil {
		return err
	}
	return finishLoad(g.Run(), report, rf, stdout, "the load's state is in NATS: run the coordinator again to finish it")
}

func cmdWorker(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	var cf common
	cf.register(fs)
	concurrency := fs.Int("concurrency", 1, "files loaded at once by this worker")
	id := fs.String("id", "", "worker name in records and logs (default: host name and process id)")
	drain := fs.Duration("drain-timeout", 10*time.Minute, "on SIGTERM, how long files in hand may take to finish before they are abandoned to redelivery")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	c, log, err := cf.configure(stderr)
	if err != nil {
		return err
	}
	if c.NATS.URL == "" {
		return usageErr(errors.New("--nats (or nats.url in the config) is required"))
	}
	if *concurrency < 1 {
		return usageErr(errors.New("--concurrency must be at least 1"))
	}
	if *id == "" {
		*id = fmt.Sprintf("%s-%d", hostname(), os.Getpid())
	}
	defer keepMemoryLimit(*concurrency, log)()
	s, err := openSession(ctx, c, log, c.NATS.URL, "s3load-worker-"+*id)
	if err != nil {
		return err
	}
	defer s.close()
	w, err := s.newWorker(*id, *concurrency, nil)
	if err != nil {
		return err
	}
	log.Info("worker started", "id", *id, "job", s.job, "concurrency", *concurrency)

	// A signal stops fetching at once; files in hand get drain-timeout to
	// finish before their work context is cancelled too.
	fetchCtx, stopFetch := context.WithCancel(ctx)
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	var g run.Group
	var drainTimer *time.Timer // set by the interrupt below; stopped once the worker is done
	defer func() {
		if drainTimer != nil {
			drainTimer.Stop()
		}
	}()
	g.Add(func() error { return w.Run(fetchCtx, workCtx) }, func(error) {
		stopFetch()
		drainTimer = time.AfterFunc(*drain, stopWork)
	})
	g.Add(run.SignalHandler(ctx, os.Interrupt, syscall.SIGTERM))
	if err := cf.addHealth(ctx, &g, s, w, nil); err != nil {
		return err
	}
	err = g.Run()
	var sig *run.SignalError
	if errors.As(err, &sig) {
		log.Info("worker drained and stopped", "signal", sig.Signal.String())
		return nil
	}
	return err
}

func runCoordinator(ctx context.Context, s *session, fullReload bool, pv *progressView) (coordinator.Report, error) {
	if err := s.ad.openLake(ctx, s.cfg, s.job, s.log); err != nil {
		return coordinator.Report{}, err
	}
	co, err := s.newCoordinator(fullReload)
	if err != nil {
		return coordinator.Report{}, err
	}
	pv.started(co)
	return co.Run(ctx)
}

// newCoordinator builds the session's coordinator; tests adjust its
// config or ports.
func (s *session) newCoordinator(fullReload bool, adjust ...func(*coordinator.Config, *coordinator.Ports)) (*coordinator.Coordinator, error) {
	c := s.cfg
	tables, err := coordinatorTables(c)
	if err != nil {
		return nil, usageErr(err)
	}
	cfg := coordinator.Config{
		Job:            s.job,
		Spec:           s.spec,
		DecodeVersion:  decode.Version,
		Holder:         fmt.Sprintf("%s-%d-%s", hostname(), os.Getpid(), randomHex(2)),
		Host:           hostname(),
		PID:            os.Getpid(),
		Bucket:         c.Source.Bucket,
		Tables:         tables,
		MaxFailedFiles: c.MaxFailedFiles,
		RetryFor:       time.Duration(c.Retry.MaxDuration),
		WorkerTimeout:  time.Duration(c.NATS.AckWait),
		CheckInterval:  time.Duration(c.Coordinator.CheckInterval),
		LeaseTTL:       time.Duration(c.Coordinator.LeaseTTL),
		PrivateState:   embeddedNATS(c),
		ProbeLocalMax:  c.Coordinator.ProbeLocalMax,
		BatchFiles:     c.Batch.Files,
		SmallFileBytes: int64(c.Batch.MaxFileBytes),
		SplitBytes:     c.SplitBytes(),
		Splittable:     s.ad.pipeline.Splittable,
		SkipReason:     decode.SkipReason,
		FullReload:     fullReload,
		Logger:         s.log.With("job", s.job),
	}
	ports := s.coordinatorPorts()
	for _, a := range adjust {
		a(&cfg, &ports)
	}
	co, err := coordinator.New(cfg, ports)
	if err != nil {
		return nil, err
	}
	s.live.Store(co)
	s.metrics.WatchProgress(co.Progress)
	// A worker announces itself every ack_wait/4 (workerConfig): one whose
	// record is older than an ack wait is gone.
	s.metrics.WatchWorkers(func(ctx context.Context) ([]messages.WorkerRecord, error) {
		return s.conn.state.Workers(ctx, s.job)
	}, time.Duration(c.NATS.AckWait))
	return co, nil
}

func finishReport(r coordinator.Report, rf reportFlags, stdout io.Writer) error {
	if err := r.WriteText(stdout); err != nil {
		return err
	}
	if rf.jsonPath != "" {
		data, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return fmt.Errorf("encoding report: %w", err)
		}
		if err := os.WriteFile(rf.jsonPath, data, 0o644); err != nil {
			return fmt.Errorf("writing report: %w", err)
		}
	}
	if !r.OK() {
		return exitError{code: ExitNotComplete}
	}
	return nil
}
