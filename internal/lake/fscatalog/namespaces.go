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

// CreateNamespace makes the namespace's directory; on S3, where a prefix
// exists only while a key lies below it, it only checks. A namespace that
// exists is an error wrapping catalog.ErrNamespaceAlreadyExists;
// properties are refused, there is nowhere to keep them.
func (c *Catalog) CreateNamespace(ctx context.Context, ns table.Identifier, props iceberg.Properties) error {
	if err := checkNamespace(ns); err != nil {
		return err
	}
	if len(props) > 0 {
		return fmt.Errorf("creating namespace %s with properties: %w", strings.Join(ns, "."), ErrUnsupported)
	}
	ok, err := c.CheckNamespaceExists(ctx, ns)
	if err != nil {
		return fmt.Errorf("creating namespace %s: %w", strings.Join(ns, "."), err)
	}
	if ok {
		return fmt.Errorf("creating namespace: %w: %s", catalog.ErrNamespaceAlreadyExists, strings.Join(ns, "."))
	}
	if err := c.fsys.MkdirAll(ctx, c.Location(ns)); err != nil {
		return fmt.Errorf("creating namespace %s: %w", strings.Join(ns, "."), err)
	}
	return nil
}

// CheckNamespaceExists reports whether the namespace's directory exists
// (on S3: whether any key lies below its prefix) and is not a table's.
func (c *Catalog) CheckNamespaceExists(ctx context.Context, ns table.Identifier) (bool, error) {
	if err := checkNamespace(ns); err != nil {
		return false, err
	}
	_, err := c.fsys.ReadDir(ctx, c.Location(ns))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("checking namespace %s: %w", strings.Join(ns, "."), err)
	}
	if len(ns) < 2 {
		return true, nil
	}
	isTable, err := c.isTable(ctx, ns)
	return !isTable, err
}

// children lists the subdirectories of a namespace, or of the warehouse
// for none. A missing namespace is an error wrapping
// catalog.ErrNoSuchNamespace; a missing warehouse has no children.
func (c *Catalog) children(ctx context.Context, ns table.Identifier) ([]string, error) {
	dir := c.warehouse
	if len(ns) > 0 {
		if err := checkNamespace(ns); err != nil {
			return nil, err
		}
		dir = c.Location(ns)
	}
	entries, err := c.fsys.ReadDir(ctx, dir)
	switch {
	case errors.Is(err, fs.ErrNotExist) && len(ns) == 0:
		return nil, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("listing namespace: %w: %s", catalog.ErrNoSuchNamespace, strings.Join(ns, "."))
	case err != nil:
		return nil, fmt.Errorf("listing namespace %s: %w", strings.Join(ns, "."), err)
	}
	var dirs []string
	for _, e := range entries {
		if e.Dir && checkLevels("namespace", table.Identifier{e.Name}) == nil {
			dirs = append(dirs, e.Name)
		}
	}
	return dirs, nil
}

// ListNamespaces returns the namespaces directly below parent (the
// top-level ones for none): its subdirectories that are not tables.
func (c *Catalog) ListNamespaces(ctx context.Context, parent table.Identifier) ([]table.Identifier, error) {
	children, err := c.children(ctx, parent)
	if err != nil {
		return nil, err
	}
	nss := []table.Identifier{}
	for _, child := range children {
		ns := append(slices.Clone(parent), child)
		isTable, err := c.isTable(ctx, ns)
		if err != nil {
			return nil, fmt.Errorf("listing namespaces: %w", err)
		}
		if !isTable {
			nss = append(nss, ns)
		}
	}
	return nss, nil
}

// DropNamespace removes an empty namespace's directory. One holding
// anything is an error wrapping catalog.ErrNamespaceNotEmpty (on S3 an
// existing namespace always holds something).
func (c *Catalog) DropNamespace(ctx context.Context, ns table.Identifier) error {
	if err := checkNamespace(ns); err != nil {
		return err
	}
	entries, err := c.fsys.ReadDir(ctx, c.Location(ns))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("dropping namespace: %w: %s", catalog.ErrNoSuchNamespace, strings.Join(ns, "."))
	case err != nil:
		return fmt.Errorf("dropping namespace %s: %w", strings.Join(ns, "."), err)
	case len(entries) > 0:
		return fmt.Errorf("dropping namespace: %w: %s", catalog.ErrNamespaceNotEmpty, strings.Join(ns, "."))
	}
	if err := c.fsys.Remove(ctx, c.Location(ns)); err != nil {
		return fmt.Errorf("dropping namespace %s: %w", strings.Join(ns, "."), err)
	}
	return nil
}

// LoadNamespaceProperties returns the one property a namespace has here,
// its location.
func (c *Catalog) LoadNamespaceProperties(ctx context.Context, ns table.Identifier) (iceberg.Properties, error) {
	ok, err := c.CheckNamespaceExists(ctx, ns)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("loading namespace properties: %w: %s", catalog.ErrNoSuchNamespace, strings.Join(ns, "."))
	}
	return iceberg.Properties{"location": c.Location(ns)}, nil
}
