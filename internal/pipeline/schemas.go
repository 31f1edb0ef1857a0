package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/decode"
	"github.com/s3load/s3load/messages"
	"github.com/s3load/s3load/worker"
)

// WithPolicies sets how each table's files' schemas merge into the
// table's (a table without one: consistent).
func (p *Pipeline) WithPolicies(policies map[string]decode.MergePolicy) *Pipeline {
	p.policies = policies
	return p
}

// WithRejectLimits sets each table's max_rejected_rows (a table without
// one: no limit).
func (p *Pipeline) WithRejectLimits(limits map[string]RejectLimit) *Pipeline {
	p.limits = limits
	return p
}

// ProbeSchema infers the schema of one file and encodes it for tasks,
// recording which format it was read as.
func (p *Pipeline) ProbeSchema(ctx context.Context, table string, src messages.Source) ([]byte, error) {
	opts, ok := p.tables[table]
	if !ok {
		return nil, fmt.Errorf("table %q is not configured", table)
	}
	opts.Mem = p.mem
	if _, skips := p.limits[table]; skips {
		// A table that skips bad rows infers past them too: the load
		// rejects them, row by row.
		opts.OnReject = func(decode.Reject) error { return nil }
	}
	obj, err := p.probeObject(ctx, src)
	var schema *arrow.Schema
	if err == nil {
		schema, err = decode.Infer(ctx, obj, opts)
	}
	if err != nil {
		if errors.Is(err, decode.ErrEmpty) {
			return nil, coordinator.NoRows(err)
		}
		if k := classify(err); k == worker.Permanent || k == worker.Changed {
			return nil, coordinator.BadFile(err)
		}
		return nil, err
	}
	return decode.EncodeSchema(schema)
}

// Probe is ProbeSchema for a worker's probe task: the error's kind says
// whose fault it is.
func (p *Pipeline) Probe(ctx context.Context, table string, src messages.Source) ([]byte, messages.ProbeKind, error) {
	schema, err := p.ProbeSchema(ctx, table, src)
	switch {
	case err == nil:
		return schema, messages.ProbeOK, nil
	case errors.Is(err, coordinator.ErrNoRows):
		return nil, messages.ProbeEmpty, err
	case errors.Is(err, coordinator.ErrBadFile):
		return nil, messages.ProbeBad, err
	}
	return nil, messages.ProbeTransient, err
}

// MergeSchemas decides a table's schema from its files' distinct schemas
// under the table's policy. CSV files must agree on their dialect first:
// the dialect most files have is the table's, and a file read another way
// does not fit, naming both.
func (p *Pipeline) MergeSchemas(_ context.Context, table string, declared []byte, groups []coordinator.SchemaGroup) (coordinator.MergedSchema, error) {
	pol := p.policies[table]
	if len(declared) > 0 {
		d, err := decode.DecodeSchema(declared)
		if err != nil {
			return coordinator.MergedSchema{}, fmt.Errorf("decoding the declared schema: %w", err)
		}
		pol.Declared = d
	}
	out := coordinator.MergedSchema{Misfits: make([]string, len(groups))}
	files := make([]decode.FileSchema, 0, len(groups))
	index := make([]int, 0, len(groups)) // files[k] is groups[index[k]]
	dialects := make([]string, len(groups))
	votes := map[string]int{}
	schemas := make([]*arrow.Schema, len(groups))
	for i, g := range groups {
		s, err := decode.DecodeSchema(g.Schema)
		if err != nil {
			return out, fmt.Errorf("decoding a probed schema: %w", err)
		}
		schemas[i] = s
		if d := decode.DialectOf(s); d != "" {
			dialects[i] = d
			votes[d] += max(g.Files, 1)
		}
	}
	out.Dialect = majority(votes)
	for i, s := range schemas {
		if dialects[i] != "" && dialects[i] != out.Dialect {
			out.Misfits[i] = fmt.Sprintf("its CSV dialect (%s) differs from the table's (%s); set the table's csv: delimiter, quote and header to read every file one way", dialects[i], out.Dialect)
			continue
		}
		files = append(files, decode.FileSchema{Schema: s, Text: decode.SourceFormat(s) != decode.FormatParquet, Files: max(groups[i].Files, 1)})
		index = append(index, i)
	}
	if len(files) == 0 && pol.Declared == nil {
		// Every file was read another way than the table's: nothing to
		// merge, and every file already says why.
		return out, nil
	}
	if len(files) == 1 && len(groups) == 1 && pol.Policy != decode.PolicyDeclared && len(pol.Columns) == 0 {
		// Every file has one schema: it is the table's, exactly (its
		// nullability and field metadata too, so a Parquet file in it can
		// be copied rather than re-encoded).
		var err error
		out.Schema, err = decode.EncodeSchema(decode.WithoutSourceFormat(files[0].Schema))
		return out, err
	}
	res, err := decode.MergeSchemas(files, pol)
	if err != nil {
		return out, err
	}
	for k, m := range res.Misfits {
		if m != nil {
			m.File = ""
			out.Misfits[index[k]] = strings.TrimPrefix(m.Error(), ": ")
		}
	}
	schema := decode.WithoutSourceFormat(res.Schema)
	if out.Schema, err = decode.EncodeSchema(schema); err != nil {
		return out, err
	}
	out.Widened = res.Widened
	return out, nil
}

// majority is the key with the most votes, the least key among equals so
// the choice does not depend on map order.
func majority(votes map[string]int) string {
	keys := make([]string, 0, len(votes))
	for k := range votes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	best := ""
	for _, k := range keys {
		if best == "" || votes[k] > votes[best] {
			best = k
		}
	}
	return best
}
