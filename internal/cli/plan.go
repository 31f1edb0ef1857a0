package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/config"
	"github.com/s3load/s3load/internal/decode"
	"github.com/s3load/s3load/internal/natsq"
	"github.com/s3load/s3load/messages"
)

// cmdPlan shows what a load would make of each table before anything is
// read in full: the schema decided from every file (footers, headers and
// samples only), each file that would not fit it, what the listing passes
// over, the files' formats, the S3 requests a load makes and their cost,
// how long decoding takes here (measured on a few small files), and what
// a load would not read again: what an open load of the job already loaded
// (NATS is read only when configured), or else what the table's committed
// load holds unchanged. Nothing is written.
func cmdPlan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	var cf common
	cf.register(fs)
	asJSON := fs.Bool("json", false, "print the plan as JSON")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	c, log, err := cf.configure(stderr)
	if err != nil {
		return err
	}
	ad, err := buildAdapters(ctx, c, nil)
	if err != nil {
		return exitError{code: ExitFailure, err: err}
	}
	tables, err := coordinatorTables(c)
	if err != nil {
		return usageErr(err)
	}
	opts := map[string]decode.Options{}
	for i, t := range c.Tables {
		if opts[t.Name], err = decodeOptions(t, c.Limits, nil); err != nil {
			return usageErr(fmt.Errorf("tables[%d].%w", i, err))
		}
	}
	ports := coordinator.PlanPorts{Lister: ad.source, Prober: ad.pipeline, Merger: ad.pipeline,
		Kind:                 func(table string, src messages.Source) coordinator.FileKind { return fileKind(src.Key, opts[table]) },
		Columns:              schemaColumns,
		Calibrate:            calibrator{store: ad.source, opts: opts, encodings: encodings(c), workers: c.Workers}.calibrate,
		ProbeKeepsSmallFiles: true, // costed as s3load run loads
	}
	if c.NATS.URL == "" {
		ports.NoState = "no NATS (set nats.url or --nats to count the files an open load already loaded)"
	} else {
		st, closeState, why := planState(ctx, c, log)
		defer closeState()
		if st != nil {
			ports.State = st
		} else {
			ports.NoState = why
		}
	}
	// The committed loads are read from the target (or catalog), as a load
	// reads them to reuse their files.
	ports.Committed = ad.target
	if ad.lake != nil {
		ports.Committed = ad.lake
	}
	plans, err := coordinator.Plan(ctx, coordinator.Config{Job: jobID(c), Spec: jobSpec(c), DecodeVersion: decode.Version,
		Bucket: c.Source.Bucket, Tables: tables,
		SplitBytes: c.SplitBytes(), Splittable: ad.pipeline.Splittable,
		SkipReason: decode.SkipReason, RetryFor: min(time.Duration(c.Retry.MaxDuration), time.Minute), Logger: log}, ports)
	if err != nil {
		return exitError{code: ExitFailure, err: err}
	}
	if *asJSON {
		err = writePlanJSON(stdout, plans)
	} else {
		err = writePlanText(stdout, plans)
	}
	if err != nil {
		return err
	}
	for _, p := range plans {
		if p.Error != "" {
			return exitError{code: ExitNotComplete}
		}
	}
	return nil
}

// planStateWait bounds how long a plan waits for NATS: it only says what
// could be reused, and says "unknown" rather than hang.
const planStateWait = 3 * time.Second

// planState opens the state store read-only in effect: a store that does
// not exist yet is not created (no load ever ran there).
func planState(ctx context.Context, c config.Config, log *slog.Logger) (coordinator.PlanState, func(), string) {
	nc, js, err := natsq.Connect(ctx, natsOptions(c.NATS.URL, "s3load-plan", c.NATS, planStateWait, log))
	if err != nil {
		return nil, func() {}, "NATS not reachable: " + err.Error()
	}
	closeConn := func() { nc.Close() }
	if _, err := js.KeyValue(ctx, natsq.StateBucket); errors.Is(err, jetstream.ErrBucketNotFound) {
		return noLoads{}, closeConn, ""
	} else if err != nil {
		return nil, closeConn, "reading NATS: " + err.Error()
	}
	st, err := natsq.OpenState(ctx, js, queueOptions(c))
	if err != nil {
		return nil, closeConn, "reading NATS: " + err.Error()
	}
	return st, closeConn, ""
}

// noLoads is the state of a NATS no load ever ran on.
type noLoads struct{}

func (noLoads) Load(context.Context, string) (messages.LoadRecord, uint64, error) {
	return messages.LoadRecord{}, 0, messages.ErrNotFound
}

func (noLoads) Files(context.Context, string, string) ([]messages.FileRecord, error) { return nil, nil }

// parquetCodecs are the codec names writers put before .parquet
// (part-0000.snappy.parquet): the pages' codec, by name only.
var parquetCodecs = map[string]string{"snappy": "snappy", "gz": "gzip", "gzip": "gzip", "zstd": "zstd", "zst": "zstd",
	"lz4": "lz4", "lz4raw": "lz4", "brotli": "brotli", "lzo": "lzo", "uncompressed": "none"}

// fileKind says what a file is read as, from its name and its table's
// options.
func fileKind(key string, opts decode.Options) coordinator.FileKind {
	format, compression, err := decode.Describe(key, opts)
	if err != nil {
		return coordinator.FileKind{Format: "unreadable"}
	}
	k := coordinator.FileKind{Format: string(format), Header: opts.CSV.Header || opts.CSV.Detect.Header}
	if compression != decode.CompressionNone && compression != "" {
		k.Codec, k.WholeCompressed = string(compression), true
		return k
	}
	if format == decode.FormatParquet {
		base := strings.TrimSuffix(strings.ToLower(path.Base(key)), ".parquet")
		if i := strings.LastIndexByte(base, '.'); i >= 0 {
			k.Codec = parquetCodecs[base[i+1:]]
		}
	}
	return k
}

func schemaColumns(schema []byte) int {
	s, err := decode.DecodeSchema(schema)
	if err != nil || s == nil {
		return 0
	}
	return s.NumFields()
}

// planColumn is one column of a planned table, for JSON.
type planColumn struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Format   string `json:"format,omitempty"`
	Nullable bool   `json:"nullable"`
}

func planColumns(p coordinator.TablePlan) ([]planColumn, error) {
	if len(p.Schema) == 0 {
		return nil, nil
	}
	s, err := decode.DecodeSchema(p.Schema)
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", p.Table, err)
	}
	cols := make([]planColumn, s.NumFields())
	for i, f := range s.Fields() {
		cols[i] = planColumn{Name: f.Name, Type: f.Type.String(), Nullable: f.Nullable}
		cols[i].Format, _ = f.Metadata.GetValue(decode.FormatMetaKey)
	}
	return cols, nil
}

func writePlanJSON(w io.Writer, plans []coordinator.TablePlan) error {
	type table struct {
		coordinator.TablePlan
		Columns []planColumn `json:"columns,omitempty"`
	}
	out := make([]table, len(plans))
	for i, p := range plans {
		cols, err := planColumns(p)
		if err != nil {
			return err
		}
		out[i] = table{TablePlan: p, Columns: cols}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{"tables": out})
}

func writePlanText(w io.Writer, plans []coordinator.TablePlan) error {
	for i, p := range plans {
		if i > 0 {
			fmt.Fprintln(w)
		}
		pf := p.Preflight
		switch {
		case pf != nil:
			fmt.Fprintf(w, "table %s: %d files, %.1f MB; schema decided from %d distinct file schemas\n",
				p.Table, pf.Files, float64(pf.Bytes)/1e6, pf.Schemas)
		case p.Error == "":
			fmt.Fprintf(w, "table %s: no file listed (the table fails unless allow_empty is set)\n", p.Table)
		default:
			fmt.Fprintf(w, "table %s:\n", p.Table)
		}
		writePlanListing(w, p)
		cols, err := planColumns(p)
		if err != nil {
			return err
		}
		for _, c := range cols {
			extra := ""
			if c.Format != "" {
				extra = fmt.Sprintf(" (format %q)", c.Format)
			}
			fmt.Fprintf(w, "  %-24s %s%s\n", c.Name, c.Type, extra)
		}
		if pf != nil {
			if pf.Dialect != "" {
				fmt.Fprintf(w, "  csv dialect (detected): %s\n", pf.Dialect)
			}
			for _, wd := range pf.Widened {
				fmt.Fprintf(w, "  widened: %s\n", wd)
			}
			if pf.Empty > 0 {
				fmt.Fprintf(w, "  %d files hold no rows (loaded with zero rows)\n", pf.Empty)
			}
			for _, f := range pf.Rejected {
				fmt.Fprintf(w, "  will fail: %s\n", f.Error)
			}
		}
		for _, f := range p.Failures {
			fmt.Fprintf(w, "  fails: %s: %s\n", f.Source, f.Error)
		}
		writePlanCosts(w, p)
		if p.Error != "" {
			fmt.Fprintf(w, "  table will not load: %s\n", p.Error)
		}
	}
	return nil
}

// writePlanListing says what the listing found: objects passed over by
// reason, and the files' formats.
func writePlanListing(w io.Writer, p coordinator.TablePlan) {
	fmt.Fprintf(w, "  listed %d objects: %d files to load (%.1f MB)", p.Listed, p.Files, float64(p.Bytes)/1e6)
	if len(p.Skipped) > 0 {
		reasons := make([]string, 0, len(p.Skipped))
		for why := range p.Skipped {
			reasons = append(reasons, why)
		}
		sort.Strings(reasons)
		for i, why := range reasons {
			reasons[i] = fmt.Sprintf("%d %s", p.Skipped[why], why)
		}
		fmt.Fprintf(w, "; skipped: %s", strings.Join(reasons, ", "))
	}
	fmt.Fprintln(w)
	if len(p.Formats) > 0 {
		fs := make([]string, len(p.Formats))
		for i, f := range p.Formats {
			fs[i] = fmt.Sprintf("%s: %d files", f.Label(), f.Files)
		}
		fmt.Fprintf(w, "  formats: %s\n", strings.Join(fs, ", "))
	}
}

// writePlanCosts says what a load would reuse, request and take.
func writePlanCosts(w io.Writer, p coordinator.TablePlan) {
	if p.Reusable != nil {
		fmt.Fprintf(w, "  reusable: %d files (%s)\n", *p.Reusable, p.ReuseBasis)
	} else {
		fmt.Fprintf(w, "  reusable: %s\n", p.ReuseBasis)
	}
	if p.SplitFiles > 0 {
		fmt.Fprintf(w, "  split: %d files into %d byte ranges\n", p.SplitFiles, p.Ranges)
	}
	r := p.Requests
	fmt.Fprintf(w, "  requests: %d LIST, %d GET (%d pre-flight, %d load), $%.6f at S3 Standard us-east-1 list prices\n",
		r.List, r.Gets, r.ProbeGets, r.LoadGets, r.CostUSD)
	fmt.Fprintf(w, "    (%s)\n", r.Basis)
	if e := p.Estimate; e != nil {
		if e.BytesPerSec > 0 {
			fmt.Fprintf(w, "  time: ~%s at %s\n", planDuration(e.Seconds), e.Basis)
		} else {
			fmt.Fprintf(w, "  time: %s\n", e.Basis)
		}
	}
}

// planDuration rounds an estimate to what it is worth.
func planDuration(sec float64) string {
	d := time.Duration(sec * float64(time.Second))
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}
