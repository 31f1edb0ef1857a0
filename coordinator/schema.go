package coordinator

import (
	"context"
	"errors"

	"github.com/s3load/s3load/messages"
)

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
