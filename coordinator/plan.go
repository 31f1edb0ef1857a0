package coordinator

import (
	"context"
	"errors"
	"math"

	"github.com/s3load/s3load/messages"
)

// TablePlan is what a load would make of one table, decided from every
// file's footer, header or sample before any file is read in full.
type TablePlan struct {
	Table string `json:"table"`
	// Schema is the table's schema as it would be loaded (nil when none
	// could be decided: Error says why).
	Schema    []byte              `json:"-"`
	Preflight *messages.Preflight `json:"preflight,omitempty"`
	// Failures are the files that would fail, each with its reason, when
	// the table would not load at all.
	Failures []messages.ManifestFailure `json:"failures,omitempty"`
	Error    string                     `json:"error,omitempty"`
}

// PlanPorts are what a plan reads through: no queue, no state, no target.
type PlanPorts struct {
	Lister Lister
	Prober Prober
	Merger SchemaMerger
}

// Plan runs every table's pre-flight in this process and loads nothing:
// the schema each table would get, and the files that would not fit it.
func Plan(ctx context.Context, cfg Config, p PlanPorts) ([]TablePlan, error) {
	if p.Lister == nil || p.Prober == nil || p.Merger == nil {
		return nil, errors.New("coordinator: a plan needs a Lister, a Prober and a Merger")
	}
	cfg = cfg.withDefaults()
	cfg.ProbeLocalMax = math.MaxInt // no workers to spread probes over
	c := &Coordinator{cfg: cfg, Ports: Ports{Lister: p.Lister, Prober: p.Prober, Merger: p.Merger}}
	plans := make([]TablePlan, len(cfg.Tables))
	for i, t := range cfg.Tables {
		schema, pf, failures, err := c.preflight(ctx, "plan", t, cfg.Logger.With("table", t.Name))
		plans[i] = TablePlan{Table: t.Name, Schema: schema, Preflight: pf, Failures: failures}
		if err != nil {
			if ctx.Err() != nil {
				return plans, ctx.Err()
			}
			plans[i].Error = err.Error()
		}
	}
	return plans, nil
}
