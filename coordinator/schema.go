package coordinator

import (
	"context"
	"errors"
	"fmt"

	"github.com/s3load/s3load/messages"
)

// maxProbes bounds the files tried for a schema: a bad first file does not
// doom the table, but a table of bad files is not read whole to find out.
const maxProbes = 5

// probeTries bounds the tries of one file's probe: a store that keeps
// failing one object should not stall the table, and the next file may do.
const probeTries = 5

// tableSchema is the declared schema, or the schema of the first file that
// can be read (nil when the table has no file). When no file can be read,
// failures accounts for every file tried, and the error says why.
func (c *Coordinator) tableSchema(ctx context.Context, t Table) (schema []byte, failures []messages.ManifestFailure, err error) {
	if len(t.Schema) > 0 {
		return t.Schema, nil, nil
	}
	var errs []error
	errFound := errors.New("found")
	probe := func(page []messages.Source) error {
		for _, src := range page {
			if !c.eligible(t, src) {
				continue
			}
			s, err := c.probe(ctx, t.Name, src)
			if err == nil {
				schema = s
				return final{errFound}
			}
			if c.permanent(err) {
				return final{err}
			}
			errs = append(errs, err)
			failures = append(failures, messages.ManifestFailure{Source: src, State: messages.StateFailed, Error: err.Error(), Attempts: 1})
			if len(errs) == maxProbes {
				return final{errFound}
			}
		}
		return nil
	}
	err = c.retry(ctx, "listing "+t.Prefix, func() error {
		errs, failures = errs[:0], failures[:0]
		return c.Lister.List(ctx, c.cfg.Bucket, t.Prefix, "", probe)
	})
	if err != nil && !errors.Is(err, errFound) {
		return nil, nil, fmt.Errorf("listing to infer the schema: %w", err)
	}
	if schema == nil && len(errs) > 0 {
		return nil, failures, fmt.Errorf("no schema: none of the first %d files could be read: %w", len(errs), errors.Join(errs...))
	}
	return schema, nil, nil
}

// probe infers a schema from one file, trying again after an error that is
// not the file's fault: under a flaky store, five resets in a row must not
// leave a table of good files uncommitted as "unreadable".
func (c *Coordinator) probe(ctx context.Context, table string, src messages.Source) ([]byte, error) {
	var schema []byte
	tries := 0
	err := c.retry(ctx, "probing the schema of "+src.String(), func() (err error) {
		schema, err = c.Prober.ProbeSchema(ctx, table, src)
		if tries++; err != nil && (errors.Is(err, ErrBadFile) || tries == probeTries) {
			return final{err}
		}
		return err
	})
	return schema, err
}

func (c *Coordinator) eligible(t Table, src messages.Source) bool {
	if t.Match != nil && !t.Match(relKey(t.Prefix, src.Key)) {
		return false
	}
	return c.cfg.SkipReason(src.Key, src.Size) == ""
}
