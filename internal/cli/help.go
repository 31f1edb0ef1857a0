package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
)

// envPrefix names the environment variables flags are also read from:
// --log-level from S3LOAD_LOG_LEVEL. A flag given on the command line wins.
const envPrefix = "S3LOAD_"

// commandHelp is what `s3load <command> --help` says besides the flags.
type commandHelp struct {
	short    string // one line for the usage list
	args     string // the synopsis after the command's name
	summary  string
	examples []string
}

// helps returns every command's help, in the order the usage lists them.
func helps() []struct {
	name string
	commandHelp
} {
	return []struct {
		name string
		commandHelp
	}{
		{"run", commandHelp{"embedded NATS + workers + coordinator: a whole load in one process", "--config load.yaml [--nats URL] [--workers N]",
			"One process does the whole load: an embedded NATS server (unless --nats or nats.url), local workers\nand the coordinator. Exits 0 when every table committed, 1 when some did not, 2 for bad flags or\nconfig, 3 when the load could not run.",
			[]string{"s3load run --config load.yaml", "s3load run --config load.yaml --workers 4 --report-json report.json", "s3load run --config load.yaml --full-reload        # a new load, every file again", "S3LOAD_LOG_LEVEL=debug s3load run --config load.yaml --progress log"}}},
		{"coordinator", commandHelp{"list, publish, reconcile, commit (one per job)", "--config load.yaml --nats URL",
			"Lists each table, publishes its files as tasks, reconciles every listed file and commits each table.\nRun one per job (a second one waits as a standby); workers do the loading.",
			[]string{"s3load coordinator --config load.yaml --nats nats://nats:4222 --health-addr :8081", "S3LOAD_NATS=nats://nats:4222 s3load coordinator --config load.yaml"}}},
		{"worker", commandHelp{"load files until stopped (any number, any hosts)", "--config load.yaml --nats URL [--concurrency N]",
			"Loads files until stopped: fetches each, decodes it to Arrow, writes a Parquet part and acks.\nStart as many as you like, on any hosts, with the coordinator's config.",
			[]string{"s3load worker --config load.yaml --nats nats://nats:4222 --concurrency 4", "s3load worker --config load.yaml --nats nats://nats:4222 --health-addr :8081 --drain-timeout 5m"}}},
		{"check", commandHelp{"test every connection of the config, one line per check", "--config load.yaml [--json]",
			"Tests every connection of the config, like a connection form's test button: credentials, bucket,\nregion, ACL, listing and reading each table's prefix, the target writable, the catalog, NATS.\nOne line per check; exits 0 only when all pass.",
			[]string{"s3load check --config load.yaml", "s3load check --config load.yaml --json | jq '.[] | select(.ok | not)'"}}},
		{"plan", commandHelp{"what a load would do: files, formats, schema, misfits, cost, time", "--config load.yaml [--json]",
			"Shows what a load would do, before anything is read in full: per table the files, bytes, formats,\nthe schema decided from every file's footer, header or sample, each file that will not fit,\nrequests and their cost, and an estimated time. Loads nothing.",
			[]string{"s3load plan --config load.yaml", "s3load plan --config load.yaml --json > plan.json"}}},
		{"status", commandHelp{"a running or last load, from any host: tables, workers", "--config load.yaml [--nats URL] [--watch] [--json]",
			"The job's current or last load as its coordinator reports it, from any host that reaches its NATS:\nper table files listed, in flight, loaded, failed, rows, rate and ETA; the workers alive and what\neach holds.",
			[]string{"s3load status --config load.yaml --nats nats://nats:4222", "s3load status --config load.yaml --watch", "s3load status --config load.yaml --json | jq '.progress.tables[] | {table, loaded, files}'"}}},
		{"history", commandHelp{"past loads: rows, files, failures, snapshots", "--config load.yaml [--table T] [--json]",
			"Past loads of the job: start, end, duration and per table rows, files, failed, reused, committed\nand the snapshot, from the tables' own metadata and the NATS state.",
			[]string{"s3load history --config load.yaml", "s3load history --config load.yaml --table orders --json"}}},
		{"health", commandHelp{"exit 0 if a worker/coordinator is healthy", "[--url http://127.0.0.1:8081/healthz]",
			"Exits 0 if the worker or coordinator at --url is healthy: the images' health check.",
			[]string{"s3load health --url http://127.0.0.1:8081/healthz"}}},
		{"demo-data", commandHelp{"fill a bucket with the demo data set", "--endpoint URL [--bucket demo] [--empty]",
			"Fills a bucket with the demo data set (credentials from AWS_ACCESS_KEY_ID and\nAWS_SECRET_ACCESS_KEY); --empty only creates the bucket.",
			[]string{"s3load demo-data --endpoint http://127.0.0.1:7070 --bucket demo"}}},
		{"completion", commandHelp{"shell completion script (bash, zsh, fish)", "bash|zsh|fish",
			"Prints a shell completion script for s3load's commands and flags.",
			[]string{"source <(s3load completion bash)", "s3load completion zsh > \"${fpath[1]}/_s3load\"", "s3load completion fish > ~/.config/fish/completions/s3load.fish"}}},
		{"version", commandHelp{"print the version", "", "Prints s3load's version.", nil}},
	}
}

func helpFor(name string) (commandHelp, bool) {
	for _, h := range helps() {
		if h.name == name {
			return h.commandHelp, true
		}
	}
	return commandHelp{}, false
}

// usageText is the top-level usage, from the commands' help.
func usageText() string {
	var b strings.Builder
	b.WriteString("s3load: full loads of S3 folders into Iceberg or Parquet tables\n\nusage:\n")
	for _, h := range helps() {
		fmt.Fprintf(&b, "  s3load %-12s %s\n", h.name, h.short)
	}
	b.WriteString("\nRun 's3load <command> --help' for a command's flags and examples. Every flag can also be set\nfrom the environment: --log-level from S3LOAD_LOG_LEVEL; a flag on the command line wins.\n")
	return b.String()
}

// setUsage makes fs print its command's synopsis, summary and examples
// before its flags.
func setUsage(fs *flag.FlagSet) {
	h, ok := helpFor(fs.Name())
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: s3load %s %s\n", fs.Name(), h.args)
		if ok {
			fmt.Fprintf(w, "\n%s\n", h.summary)
			if len(h.examples) > 0 {
				fmt.Fprintln(w, "\nexamples:")
				for _, e := range h.examples {
					fmt.Fprintf(w, "  %s\n", e)
				}
			}
		}
		fmt.Fprintf(w, "\nflags (each also read from %s<NAME>, e.g. --log-level from %sLOG_LEVEL):\n", envPrefix, envPrefix)
		fs.PrintDefaults()
	}
}

// envName is the environment variable flag name is read from.
func envName(name string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// applyEnv sets each flag not given on the command line from its
// environment variable, if set.
func applyEnv(fs *flag.FlagSet, lookup func(string) (string, bool)) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || given[f.Name] {
			return
		}
		v, ok := lookup(envName(f.Name))
		if !ok {
			return
		}
		if serr := fs.Set(f.Name, v); serr != nil {
			err = fmt.Errorf("%s (for --%s): %w", envName(f.Name), f.Name, serr)
		}
	})
	return err
}

// commandFlags lists a command's flags as its --help prints them, for
// completion: name and whether it takes a value.
func commandFlags(name string) []flagInfo {
	var out strings.Builder
	_ = Main(context.Background(), []string{name, "--help"}, io.Discard, &out)
	var flags []flagInfo
	for _, line := range strings.Split(out.String(), "\n") {
		if !strings.HasPrefix(line, "  -") {
			continue
		}
		fields := strings.Fields(strings.TrimPrefix(line, "  -"))
		if len(fields) == 0 {
			continue
		}
		flags = append(flags, flagInfo{name: fields[0], value: len(fields) > 1})
	}
	return flags
}

type flagInfo struct {
	name  string
	value bool // takes a value (not a bool flag)
}
