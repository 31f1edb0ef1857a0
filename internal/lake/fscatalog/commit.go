package fscatalog

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
)

// assertCreate is the type of table.AssertCreate(), the requirement of a
// commit that creates its table.
const assertCreate = "assert-create"

// CommitTable applies updates to the table's current metadata vN, if every
// requirement holds for it, and creates vN+1.metadata.json. Failed
// requirements, and losing vN+1 to another commit, are errors wrapping
// table.ErrCommitFailed: nothing was written, and the caller may reload
// and try again. Any other error is returned as is; whether the commit
// happened is then unknown, and reading the table back tells.
//
// A commit with an assert-create requirement creates a missing table at
// its default location (unless its updates set another).
func (c *Catalog) CommitTable(ctx context.Context, ident table.Identifier, reqs []table.Requirement, updates []table.Update) (table.Metadata, string, error) {
	if err := checkTable(ident); err != nil {
		return nil, "", err
	}
	name := strings.Join(ident, ".")
	creating := slices.ContainsFunc(reqs, func(r table.Requirement) bool { return r.GetType() == assertCreate })

	cur, err := c.latest(ctx, ident)
	switch {
	case errors.Is(err, catalog.ErrNoSuchTable) && creating:
	case err != nil:
		return nil, "", fmt.Errorf("committing to %s: %w", name, err)
	}
	for _, r := range reqs {
		// A requirement fails when another commit changed the table since
		// the caller read it: the same conflict as losing vN+1.
		if err := r.Validate(cur.meta); err != nil {
			return nil, "", fmt.Errorf("committing to %s: %w: %w", name, table.ErrCommitFailed, err)
		}
	}

	base := cur.meta
	if base == nil {
		if base, err = table.NewMetadata(iceberg.NewSchema(0), nil, table.UnsortedSortOrder, c.Location(ident), nil); err != nil {
			return nil, "", fmt.Errorf("committing to %s: %w", name, err)
		}
	}
	// cur.location joins the metadata log; "" (creating) adds nothing.
	updated, err := table.UpdateTableMetadata(base, updates, cur.location)
	if err != nil {
		return nil, "", fmt.Errorf("committing to %s: applying updates: %w", name, err)
	}

	loc, err := c.publish(ctx, ident, cur.version+1, updated)
	if errors.Is(err, fs.ErrExist) {
		return nil, "", fmt.Errorf("committing to %s: %w: version %d was committed by another writer", name, table.ErrCommitFailed, cur.version+1)
	}
	if err != nil {
		return nil, "", fmt.Errorf("committing to %s: %w", name, err)
	}
	return updated, loc, nil
}
