package fscatalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"slices"
	"strings"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
)

// CreateTable creates v1.metadata.json at <warehouse>/<namespace>/<name>,
// honoring the location, properties, partition spec, sort order and staged
// updates given. The namespace need not exist first: a table's directory
// makes it. A table that exists already, or that a racing CreateTable
// creates first, is an error wrapping catalog.ErrTableAlreadyExists.
// A custom location moves the table's data, not its metadata, which stays
// where the catalog finds it.
func (c *Catalog) CreateTable(ctx context.Context, ident table.Identifier, sc *iceberg.Schema, opts ...catalog.CreateTableOpt) (*table.Table, error) {
	if err := checkTable(ident); err != nil {
		return nil, err
	}
	cfg := catalog.NewCreateTableCfg()
	for _, opt := range opts {
		opt(&cfg)
	}
	name := strings.Join(ident, ".")
	switch _, err := c.latest(ctx, ident); {
	case err == nil:
		return nil, fmt.Errorf("creating table: %w: %s", catalog.ErrTableAlreadyExists, name)
	case !errors.Is(err, catalog.ErrNoSuchTable):
		return nil, fmt.Errorf("creating table %s: %w", name, err)
	}
	loc := cfg.Location
	if loc == "" {
		loc = c.Location(ident)
	}
	meta, err := table.NewMetadata(sc, cfg.PartitionSpec, cfg.SortOrder, loc, cfg.Properties)
	if err != nil {
		return nil, fmt.Errorf("creating table %s: %w", name, err)
	}
	if len(cfg.StagedUpdates) > 0 {
		if meta, err = table.UpdateTableMetadata(meta, cfg.StagedUpdates, ""); err != nil {
			return nil, fmt.Errorf("creating table %s: applying staged updates: %w", name, err)
		}
	}
	metaLoc, err := c.publish(ctx, ident, 1, meta)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("creating table: %w: %s", catalog.ErrTableAlreadyExists, name)
	}
	if err != nil {
		return nil, fmt.Errorf("creating table %s: %w", name, err)
	}
	return c.table(ident, meta, metaLoc), nil
}

// publish creates metadata file version with CreateExclusive, an error
// wrapping fs.ErrExist if it exists, then rewrites the hint.
func (c *Catalog) publish(ctx context.Context, ident table.Identifier, version int, meta table.Metadata) (string, error) {
	data, err := json.Marshal(meta)
	if err != nil {
		return "", fmt.Errorf("encoding metadata: %w", err)
	}
	loc := c.metadataFile(ident, version)
	if err := c.fsys.MkdirAll(ctx, c.metadataDir(ident)); err != nil {
		return "", fmt.Errorf("creating the metadata directory: %w", err)
	}
	if err := c.fsys.CreateExclusive(ctx, loc, data); err != nil {
		return "", err
	}
	c.writeHint(ctx, ident, version)
	return loc, nil
}

func (c *Catalog) table(ident table.Identifier, meta table.Metadata, metaLoc string) *table.Table {
	return table.New(ident, meta, metaLoc, c.fsys.IOFunc(), c)
}

// LoadTable reads a table's latest metadata; a table without any is an
// error wrapping catalog.ErrNoSuchTable.
func (c *Catalog) LoadTable(ctx context.Context, ident table.Identifier) (*table.Table, error) {
	if err := checkTable(ident); err != nil {
		return nil, err
	}
	cur, err := c.latest(ctx, ident)
	if err != nil {
		return nil, fmt.Errorf("loading table: %w", err)
	}
	return c.table(ident, cur.meta, cur.location), nil
}

// CheckTableExists reports whether the table has a metadata file.
func (c *Catalog) CheckTableExists(ctx context.Context, ident table.Identifier) (bool, error) {
	if err := checkTable(ident); err != nil {
		return false, err
	}
	return c.isTable(ctx, ident)
}

func (c *Catalog) isTable(ctx context.Context, ident table.Identifier) (bool, error) {
	v, err := c.highestListed(ctx, ident)
	return v > 0, err
}

// DropTable removes the table's directory: its metadata first, so that an
// interrupted drop leaves no table pointing at removed data, then the rest.
// Data at a custom location is left alone.
func (c *Catalog) DropTable(ctx context.Context, ident table.Identifier) error {
	if err := checkTable(ident); err != nil {
		return err
	}
	ok, err := c.isTable(ctx, ident)
	if err != nil {
		return fmt.Errorf("dropping table %s: %w", strings.Join(ident, "."), err)
	}
	if !ok {
		return fmt.Errorf("dropping table: %w: %s", catalog.ErrNoSuchTable, strings.Join(ident, "."))
	}
	if err := c.fsys.RemoveAll(ctx, c.metadataDir(ident)); err != nil {
		return fmt.Errorf("dropping table %s: %w", strings.Join(ident, "."), err)
	}
	if err := c.fsys.RemoveAll(ctx, c.Location(ident)); err != nil {
		return fmt.Errorf("dropping table %s: %w", strings.Join(ident, "."), err)
	}
	return nil
}

// ListTables yields the tables directly in namespace: its subdirectories
// with a metadata file.
func (c *Catalog) ListTables(ctx context.Context, ns table.Identifier) iter.Seq2[table.Identifier, error] {
	return func(yield func(table.Identifier, error) bool) {
		children, err := c.children(ctx, ns)
		if err != nil {
			yield(nil, err)
			return
		}
		for _, child := range children {
			ident := append(slices.Clone(ns), child)
			ok, err := c.isTable(ctx, ident)
			if err != nil {
				yield(nil, fmt.Errorf("listing tables of %s: %w", strings.Join(ns, "."), err))
				return
			}
			if ok && !yield(ident, nil) {
				return
			}
		}
	}
}
