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

// ErrNoRows marks a Prober error for a file that holds no rows to infer a
// schema from (an empty JSON array, an empty or blank file). It is not a
// bad file: its rows (none) load into the schema the table gets from
// another file. Wrap with NoRows.
var ErrNoRows = errors.New("file holds no rows")

// NoRows marks err as a file without rows (errors.Is(err, ErrNoRows))
// without changing its message.
func NoRows(err error) error { return noRows{err} }

type noRows struct{ err error }

func (n noRows) Error() string        { return n.err.Error() }
func (n noRows) Unwrap() error        { return n.err }
func (n noRows) Is(target error) bool { return target == ErrNoRows }

// tableSchema is the declared schema, or the schema of the first file that
// can be read (nil when the table has no file). Files without rows are
// passed over: they give no schema, and are not bad files either. When no
// file gives a schema, failures accounts for every file tried (the bad
// ones, and the empty ones when no file is bad), and the error says why.
func (c *Coordinator) tableSchema(ctx context.Context, t Table) (schema []byte, failures []messages.ManifestFailure, err error) {
	if len(t.Schema) > 0 {
		return t.Schema, nil, nil
	}
	var errs []error
	var empty []messages.ManifestFailure
	errFound := errors.New("found")
	failed := func(src messages.Source, err error) messages.ManifestFailure {
		return messages.ManifestFailure{Source: src, State: messages.StateFailed, Error: err.Error(), Attempts: 1}
	}
	probe := func(page []messages.Source) error {
		for _, src := range page {
			if !c.eligible(t, src) {
				continue
			}
			s, err := c.probe(ctx, t.Name, src)
			switch {
			case err == nil:
				schema = s
				return final{errFound}
			case errors.Is(err, ErrNoRows):
				// Empty files are small: each is probed, so that a table
				// of only empty files can say so of all of them.
				empty = append(empty, failed(src, err))
				continue
			}
			failures = append(failures, failed(src, err))
			if c.permanent(err) {
				return final{err}
			}
			errs = append(errs, err)
			if len(errs) == maxProbes {
				return final{errFound}
			}
		}
		return nil
	}
	err = c.retry(ctx, "listing "+t.Prefix, func() error {
		errs, failures, empty = errs[:0], failures[:0], empty[:0]
		return c.Lister.List(ctx, c.cfg.Bucket, t.Prefix, "", probe)
	})
	if err != nil && !errors.Is(err, errFound) {
		// The files tried are accounted for even when the listing, or a
		// store error no retry fixes, ends the search.
		return nil, append(failures, empty...), fmt.Errorf("listing to infer the schema: %w", err)
	}
	switch {
	case schema != nil:
		return schema, nil, nil
	case len(errs) > 0 && len(empty) > 0:
		return nil, append(failures, empty...), fmt.Errorf("no schema: %d of the files tried could not be read and %d are empty: %w",
			len(errs), len(empty), errors.Join(errs...))
	case len(errs) > 0:
		return nil, failures, fmt.Errorf("no schema: none of the first %d files could be read: %w", len(errs), errors.Join(errs...))
	case len(empty) > 0:
		if t.AllowEmpty {
			// allow_empty commits an empty table when no file is listed;
			// files without rows give no schema to commit one with.
			return nil, empty, fmt.Errorf("no schema: all %d files are empty (allow_empty commits an empty table only when no file is listed, or with a declared schema)", len(empty))
		}
		return nil, empty, fmt.Errorf("no schema: all %d files are empty (no rows to infer a schema from); table not committed, its previous commit stays", len(empty))
	}
	return nil, nil, nil
}

// probe infers a schema from one file, trying again after an error that is
// not the file's fault: under a flaky store, five resets in a row must not
// leave a table of good files uncommitted as "unreadable".
func (c *Coordinator) probe(ctx context.Context, table string, src messages.Source) ([]byte, error) {
	var schema []byte
	tries := 0
	err := c.retry(ctx, "probing the schema of "+src.String(), func() (err error) {
		schema, err = c.Prober.ProbeSchema(ctx, table, src)
		if tries++; err != nil && (errors.Is(err, ErrBadFile) || errors.Is(err, ErrNoRows) || tries == probeTries) {
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
