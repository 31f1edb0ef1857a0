package fscatalog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"unicode"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/s3load/s3load/internal/lake/lakeio"
)

// ErrUnsupported: an operation the filesystem catalog does not offer
// (renaming a table, namespace properties).
var ErrUnsupported = fmt.Errorf("not supported by the filesystem catalog: %w", iceberg.ErrNotImplemented)

// Catalog is an Iceberg catalog kept in a warehouse's files.
type Catalog struct {
	warehouse string // as given, without a trailing "/"
	fsys      *lakeio.FS
	log       *slog.Logger
}

var _ catalog.Catalog = (*Catalog)(nil)

// Option changes how New builds a Catalog.
type Option func(*Catalog)

// WithLogger sets the logger for what the catalog cannot report as an
// error (a version hint it failed to rewrite); slog.Default otherwise.
func WithLogger(log *slog.Logger) Option { return func(c *Catalog) { c.log = log } }

// New returns the catalog kept in warehouse: file:///abs/path, /abs/path
// or s3://bucket/prefix, read and written through fsys (which needs a
// store for s3://). Nothing is touched before the first operation.
func New(warehouse string, fsys *lakeio.FS, opts ...Option) (*Catalog, error) {
	w := strings.TrimRight(warehouse, "/")
	scheme, rest, hasScheme := strings.Cut(w, "://")
	switch {
	case hasScheme && scheme == "s3" && rest != "":
	case hasScheme && scheme == "file" && strings.HasPrefix(rest, "/") && rest != "/":
	case !hasScheme && strings.HasPrefix(w, "/") && w != "":
	default:
		return nil, fmt.Errorf("opening warehouse %q: want file:///abs/path, /abs/path or s3://bucket/prefix, not the root", warehouse)
	}
	if fsys == nil {
		return nil, errors.New("opening warehouse: no file system")
	}
	c := &Catalog{warehouse: w, fsys: fsys}
	for _, opt := range opts {
		opt(c)
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	return c, nil
}

// CatalogType is Hadoop's: the warehouse is laid out as its catalog's.
func (c *Catalog) CatalogType() catalog.Type { return catalog.Hadoop }

// Warehouse returns the warehouse the catalog was opened on, without a
// trailing "/".
func (c *Catalog) Warehouse() string { return c.warehouse }

// Location returns where a table (or, given a namespace, a namespace)
// lives: the warehouse joined with each level.
func (c *Catalog) Location(ident table.Identifier) string {
	return c.warehouse + "/" + strings.Join(ident, "/")
}

func (c *Catalog) metadataDir(ident table.Identifier) string {
	return c.Location(ident) + "/metadata"
}

func (c *Catalog) metadataFile(ident table.Identifier, version int) string {
	return fmt.Sprintf("%s/v%d.metadata.json", c.metadataDir(ident), version)
}

func (c *Catalog) hintFile(ident table.Identifier) string {
	return c.metadataDir(ident) + "/version-hint.text"
}

// checkLevels refuses names that are not one path segment, or that a
// file:// URL would read otherwise ('%' escapes, '?' and '#').
func checkLevels(what string, ident table.Identifier) error {
	for _, part := range ident {
		bad := part == "" || part == "." || part == ".." || strings.ContainsAny(part, `/\%?#`)
		for _, r := range part {
			bad = bad || unicode.IsControl(r)
		}
		if bad {
			return fmt.Errorf("%w: %s level %q of %q: want one path segment without / \\ %% ? # or control characters",
				catalog.ErrInvalidIdentifier, what, part, strings.Join(ident, "."))
		}
	}
	return nil
}

func checkTable(ident table.Identifier) error {
	if len(ident) < 2 {
		return fmt.Errorf("%w: table %q needs a namespace and a name", catalog.ErrInvalidIdentifier, strings.Join(ident, "."))
	}
	return checkLevels("table", ident)
}

func checkNamespace(ns table.Identifier) error {
	if len(ns) == 0 {
		return fmt.Errorf("%w: empty namespace", catalog.ErrInvalidIdentifier)
	}
	return checkLevels("namespace", ns)
}

// RenameTable is not supported: a table's files would have to move.
func (c *Catalog) RenameTable(context.Context, table.Identifier, table.Identifier) (*table.Table, error) {
	return nil, fmt.Errorf("renaming a table: %w", ErrUnsupported)
}

// UpdateNamespaceProperties is not supported: namespaces have no
// properties here.
func (c *Catalog) UpdateNamespaceProperties(context.Context, table.Identifier, []string, iceberg.Properties) (catalog.PropertiesUpdateSummary, error) {
	return catalog.PropertiesUpdateSummary{}, fmt.Errorf("updating namespace properties: %w", ErrUnsupported)
}
