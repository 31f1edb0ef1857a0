package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/s3load/s3load/internal/config"
	"github.com/s3load/s3load/internal/lake"
	"github.com/s3load/s3load/internal/natsq"
)

// checkTimeout bounds each check of `s3load check`: an endpoint that is
// down is reported in seconds, where `run` waits startup_wait for it.
// Groups (source, target, catalog, NATS) run at once, so the whole stays
// under about 5 s.
const checkTimeout = 4 * time.Second

// natsCheckWait is how long the NATS check tries to connect.
const natsCheckWait = 2 * time.Second

// checkResult is one line of `s3load check`.
type checkResult struct {
	Check  string `json:"check"`
	Target string `json:"target"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	Fix    string `json:"fix"`
}

// cmdCheck is `s3load check`: the connection test of every source, target,
// catalog and NATS of a config, one line each, with the fix of each that
// fails. It loads nothing and leaves nothing behind.
func cmdCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	var cf common
	fs.StringVar(&cf.config, "config", "", "path of the load config (YAML); required")
	fs.StringVar(&cf.natsURL, "nats", "", "NATS URL; overrides nats.url of the config")
	fs.StringVar(&cf.logLevel, "log-level", "warn", "debug, info, warn or error")
	asJSON := fs.Bool("json", false, "print the checks as a JSON array of {check, target, ok, detail, fix}")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	c, log, err := cf.configure(stderr)
	if err != nil {
		return err
	}
	ad, err := buildAdapters(ctx, c, nil)
	if err != nil {
		var exit exitError
		if errors.As(err, &exit) {
			return err
		}
		return usageErr(err) // the stores' settings are the config's
	}
	defer func() {
		for _, closeFn := range ad.closers {
			_ = closeFn()
		}
	}()
	groups := storeChecks(c, ad)
	if c.TableFormat == config.FormatIceberg {
		groups = append(groups, []check{catalogCheck(c, ad, log)})
	}
	groups = append(groups, []check{natsCheck(c, log)})
	results := runChecks(ctx, groups)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(results)
	} else {
		err = writeChecks(stdout, results)
	}
	if err != nil {
		return err
	}
	failed := 0
	for _, r := range results {
		if !r.OK {
			failed++
		}
	}
	if failed > 0 {
		return exitError{code: ExitFailure, err: fmt.Errorf("%d of %d checks failed", failed, len(results))}
	}
	return nil
}

// runChecks runs each group in order, all groups at once, each check
// within checkTimeout; a failed gate ends its group.
func runChecks(ctx context.Context, groups [][]check) []checkResult {
	out := make([][]checkResult, len(groups))
	var wg sync.WaitGroup
	for i, group := range groups {
		wg.Go(func() {
			for _, c := range group {
				r, err := runCheck(ctx, c)
				if errors.Is(err, errSkipped) {
					continue
				}
				out[i] = append(out[i], r)
				if err != nil && c.gate {
					return
				}
			}
		})
	}
	wg.Wait()
	var all []checkResult
	for _, rs := range out {
		all = append(all, rs...)
	}
	return all
}

func runCheck(ctx context.Context, c check) (checkResult, error) {
	cctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	detail, err := c.run(cctx)
	r := checkResult{Check: c.name, Target: c.target, OK: err == nil, Detail: detail}
	if err != nil {
		r.Detail, r.Fix = failure(ctx, err, c.endpoint)
	}
	return r, err
}

// fixVerbs begin the fix that s3load's error messages end with, after
// their last ": ".
var fixVerbs = []string{"check ", "set ", "grant ", "use ", "renew ", "issue ", "add ", "free ", "enable ",
	"connect ", "reissue ", "give ", "point ", "did you mean ", "drop ", "choose "}

// failure splits a check's error into what went wrong and what to change.
func failure(ctx context.Context, err error, endpoint string) (detail, fix string) {
	msg := err.Error()
	if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) && !strings.Contains(msg, "no answer from") {
		return fmt.Sprintf("no answer from %s within %s", endpoint, checkTimeout),
			"check the endpoint and that its server is up, and the network (proxy, firewall)"
	}
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		rest := msg[i+2:]
		for _, v := range fixVerbs {
			if strings.HasPrefix(rest, v) {
				return msg[:i], rest
			}
		}
	}
	return msg, "check the settings this names, and that " + endpoint + " is up"
}

// writeChecks prints one line per check, and the fix under each that
// failed.
func writeChecks(w io.Writer, results []checkResult) error {
	var b strings.Builder
	for _, r := range results {
		mark := "✓"
		if !r.OK {
			mark = "✗"
		}
		fmt.Fprintf(&b, "%s %s: %s: %s\n", mark, r.Target, r.Check, r.Detail)
		if !r.OK {
			fmt.Fprintf(&b, "    fix: %s\n", r.Fix)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// catalogCheck opens the Iceberg catalog as a coordinator would and asks
// it whether the namespace exists.
func catalogCheck(c config.Config, ad *adapters, log *slog.Logger) check {
	cc := c.Catalog
	if cc == nil {
		cc = &config.Catalog{Type: config.CatalogFilesystem}
	}
	target := "catalog " + cc.Type
	endpoint := "the catalog"
	if cc.URI != "" {
		target += " " + lake.RedactURL(cc.URI)
		endpoint = lake.RedactURL(cc.URI)
	}
	return check{name: "reachable", target: target, endpoint: endpoint,
		run: func(ctx context.Context) (string, error) {
			if err := ad.openLake(ctx, c, jobID(c), log); err != nil {
				return "", err
			}
			ns := strings.Join(c.NamespaceLevels(), ".")
			exists, err := ad.lake.Check(ctx)
			switch {
			case err != nil:
				return "", err
			case exists:
				return fmt.Sprintf("the catalog answers; namespace %s exists", ns), nil
			}
			return fmt.Sprintf("the catalog answers; namespace %s will be created by the first load", ns), nil
		}}
}

// natsCheck connects to the config's NATS, if it names one, and asks for
// the account's JetStream.
func natsCheck(c config.Config, log *slog.Logger) check {
	if c.NATS.URL == "" {
		return check{name: "reachable with JetStream", target: "nats (embedded)",
			run: func(context.Context) (string, error) {
				return "no nats.url: `s3load run` starts its own NATS server with JetStream " +
					"(coordinator and worker need nats.url or --nats)", nil
			}}
	}
	where := natsq.RedactURL(c.NATS.URL)
	return check{name: "reachable with JetStream", target: "nats " + where, endpoint: where,
		run: func(ctx context.Context) (string, error) {
			nc, js, err := natsq.Connect(ctx, natsOptions(c.NATS.URL, "s3load-check", c.NATS, natsCheckWait, log))
			if err != nil {
				return "", err
			}
			defer nc.Close()
			info, err := js.AccountInfo(ctx)
			if errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) {
				return "", fmt.Errorf("nats %s answers, without JetStream: enable JetStream on the server (nats-server -js) for this account", where)
			}
			if err != nil {
				return "", fmt.Errorf("nats %s: asking for JetStream: %w", where, err)
			}
			return fmt.Sprintf("connected to %s; JetStream answers (%d streams)", nc.ConnectedServerName(), info.Streams), nil
		}}
}
