package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/decode"
)

// cmdPlan shows what a load would make of each table before anything is
// read in full: the schema decided from every file (footers, headers and
// samples only) and each file that would not fit it. Nothing is written
// and no NATS is needed.
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
	plans, err := coordinator.Plan(ctx, coordinator.Config{Job: "plan", Bucket: c.Source.Bucket, Tables: tables,
		SkipReason: decode.SkipReason, RetryFor: min(time.Duration(c.Retry.MaxDuration), time.Minute), Logger: log},
		coordinator.PlanPorts{Lister: ad.source, Prober: ad.pipeline, Merger: ad.pipeline})
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
		if p.Error != "" {
			fmt.Fprintf(w, "  table will not load: %s\n", p.Error)
		}
	}
	return nil
}
