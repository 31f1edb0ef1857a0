package fscatalog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
)

var (
	ns    = table.Identifier{"sales"}
	ident = table.Identifier{"sales", "orders"}
)

// createTable creates ns and ident on a fresh warehouse.
func createTable(t *testing.T, ctx context.Context, c *Catalog) *table.Table {
	t.Helper()
	if err := c.CreateNamespace(ctx, ns, nil); err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	tbl, err := c.CreateTable(ctx, ident, testSchema())
	if err != nil {
		t.Fatalf("creating table: %v", err)
	}
	return tbl
}

// checkVersion checks that tbl is at metadata version n, named as
// Hadoop names it, and that the hint says n.
func checkVersion(t *testing.T, ctx context.Context, c *Catalog, tbl *table.Table, n int) {
	t.Helper()
	want := fmt.Sprintf("%s/metadata/v%d.metadata.json", c.Location(ident), n)
	if tbl.MetadataLocation() != want {
		t.Errorf("metadata location %s, want %s", tbl.MetadataLocation(), want)
	}
	hint, err := c.fsys.ReadFile(ctx, c.hintFile(ident))
	if err != nil || string(hint) != fmt.Sprint(n) {
		t.Errorf("version-hint.text = %q, %v; want %q", hint, err, fmt.Sprint(n))
	}
}

func TestCommitsAndScan(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			ctx, mem := testCtx(t)
			open := newWarehouse(t, kind)
			c := open(t)
			tbl := createTable(t, ctx, c)
			checkVersion(t, ctx, c, tbl, 1)
			if tbl.Location() != c.Location(ident) {
				t.Errorf("table location %s, want %s", tbl.Location(), c.Location(ident))
			}

			tbl, err := appendRows(t, ctx, mem, tbl, 0, 3)
			if err != nil {
				t.Fatalf("first commit: %v", err)
			}
			checkVersion(t, ctx, c, tbl, 2)
			tbl, err = appendRows(t, ctx, mem, tbl, 3, 2)
			if err != nil {
				t.Fatalf("second commit: %v", err)
			}
			checkVersion(t, ctx, c, tbl, 3)

			loaded, err := open(t).LoadTable(ctx, ident)
			if err != nil {
				t.Fatal(err)
			}
			checkVersion(t, ctx, c, loaded, 3)
			if n := countRows(t, ctx, loaded); n != 5 {
				t.Errorf("scanned %d rows, want 5", n)
			}
			if got := len(loaded.Metadata().Snapshots()); got != 2 {
				t.Errorf("%d snapshots, want 2", got)
			}

			entries, err := c.fsys.ReadDir(ctx, c.metadataDir(ident))
			if err != nil {
				t.Fatal(err)
			}
			var metas []string
			for _, e := range entries {
				if strings.HasSuffix(e.Name, ".metadata.json") {
					metas = append(metas, e.Name)
				}
			}
			if want := []string{"v1.metadata.json", "v2.metadata.json", "v3.metadata.json"}; !slices.Equal(metas, want) {
				t.Errorf("metadata files %v, want %v", metas, want)
			}
			data, err := c.fsys.ReadDir(ctx, c.Location(ident)+"/data")
			if err != nil || len(data) == 0 {
				t.Errorf("no data files under %s/data: %v", c.Location(ident), err)
			}
		})
	}
}

// TestStaleCommit: two transactions from the same table version; the one
// committed second finds the table changed and fails as a conflict,
// writing nothing.
func TestStaleCommit(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			ctx, mem := testCtx(t)
			c := newWarehouse(t, kind)(t)
			base, err := appendRows(t, ctx, mem, createTable(t, ctx, c), 0, 1)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := appendRows(t, ctx, mem, base, 1, 2); err != nil {
				t.Fatalf("first writer: %v", err)
			}
			_, err = appendRows(t, ctx, mem, base, 3, 4)
			if !errors.Is(err, table.ErrCommitFailed) {
				t.Fatalf("second writer from a stale base: %v, want table.ErrCommitFailed", err)
			}
			loaded, err := c.LoadTable(ctx, ident)
			if err != nil {
				t.Fatal(err)
			}
			checkVersion(t, ctx, c, loaded, 3)
			if n := countRows(t, ctx, loaded); n != 3 {
				t.Errorf("scanned %d rows, want 3", n)
			}
		})
	}
}

// TestRacingCommits: commits from the same version at once; exactly one
// wins, every other is a conflict.
func TestRacingCommits(t *testing.T) {
	const writers = 4
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			ctx, _ := testCtx(t)
			c := newWarehouse(t, kind)(t)
			base := createTable(t, ctx, c)
			reqs := []table.Requirement{table.AssertTableUUID(base.Metadata().TableUUID())}
			var wg sync.WaitGroup
			errs := make([]error, writers)
			for i := range writers {
				wg.Go(func() {
					// Each writer asserts the version it read: the
					// hint-free way to say "from v1" is a property only
					// v1 lacks.
					r := append(slices.Clone(reqs), propertyAbsent{"writer"})
					upd := []table.Update{table.NewSetPropertiesUpdate(iceberg.Properties{"writer": fmt.Sprint(i)})}
					_, _, errs[i] = c.CommitTable(ctx, ident, r, upd)
				})
			}
			wg.Wait()
			won := 0
			for i, err := range errs {
				switch {
				case err == nil:
					won++
				case !errors.Is(err, table.ErrCommitFailed):
					t.Errorf("writer %d: %v, want nil or table.ErrCommitFailed", i, err)
				}
			}
			if won != 1 {
				t.Fatalf("%d writers won, want exactly 1: %v", won, errs)
			}
			loaded, err := c.LoadTable(ctx, ident)
			if err != nil {
				t.Fatal(err)
			}
			checkVersion(t, ctx, c, loaded, 2)
		})
	}
}

// propertyAbsent is a requirement that a table property is not set.
type propertyAbsent struct{ key string }

func (p propertyAbsent) GetType() string { return "assert-property-absent" }
func (p propertyAbsent) Validate(m table.Metadata) error {
	if v, ok := m.Properties()[p.key]; ok {
		return fmt.Errorf("property %s is set to %q", p.key, v)
	}
	return nil
}

// TestLaggingHint: a hint left behind by a crash (or by commits finishing
// out of order), a missing one and a garbled one all still load the latest
// version, loading repairs the hint, and the next commit follows it.
func TestLaggingHint(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			ctx, mem := testCtx(t)
			c := newWarehouse(t, kind)(t)
			tbl := createTable(t, ctx, c)
			var err error
			for i := range 2 {
				if tbl, err = appendRows(t, ctx, mem, tbl, i, 1); err != nil {
					t.Fatal(err)
				}
			}
			for _, hint := range []string{"1", "2", "garbled", ""} {
				if hint == "" {
					err = c.fsys.Remove(ctx, c.hintFile(ident))
				} else {
					err = c.fsys.WriteFile(ctx, c.hintFile(ident), []byte(hint))
				}
				if err != nil {
					t.Fatal(err)
				}
				loaded, err := c.LoadTable(ctx, ident)
				if err != nil {
					t.Fatalf("hint %q: %v", hint, err)
				}
				if want := c.metadataFile(ident, 3); loaded.MetadataLocation() != want {
					t.Errorf("hint %q: loaded %s, want %s", hint, loaded.MetadataLocation(), want)
				}
				// Loading repairs the hint for readers that trust it alone.
				if got, err := c.fsys.ReadFile(ctx, c.hintFile(ident)); err != nil || string(got) != "3" {
					t.Errorf("hint %q: after loading, version-hint.text = %q, %v; want \"3\"", hint, got, err)
				}
			}
			if err := c.fsys.WriteFile(ctx, c.hintFile(ident), []byte("1")); err != nil {
				t.Fatal(err)
			}
			loaded, err := c.LoadTable(ctx, ident)
			if err != nil {
				t.Fatal(err)
			}
			if loaded, err = appendRows(t, ctx, mem, loaded, 2, 1); err != nil {
				t.Fatalf("committing past a lagging hint: %v", err)
			}
			checkVersion(t, ctx, c, loaded, 4)
			if n := countRows(t, ctx, loaded); n != 3 {
				t.Errorf("scanned %d rows, want 3", n)
			}
		})
	}
}

func TestNamespacesAndTables(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			ctx, _ := testCtx(t)
			c := newWarehouse(t, kind)(t)
			if nss, err := c.ListNamespaces(ctx, nil); err != nil || len(nss) != 0 {
				t.Fatalf("namespaces of an empty warehouse: %v, %v", nss, err)
			}
			if ok, err := c.CheckTableExists(ctx, ident); err != nil || ok {
				t.Fatalf("CheckTableExists before creating: %v, %v", ok, err)
			}
			if _, err := c.LoadTable(ctx, ident); !errors.Is(err, catalog.ErrNoSuchTable) {
				t.Fatalf("loading a missing table: %v, want catalog.ErrNoSuchTable", err)
			}
			createTable(t, ctx, c)
			if err := c.CreateNamespace(ctx, ns, nil); !errors.Is(err, catalog.ErrNamespaceAlreadyExists) {
				t.Errorf("creating the namespace again: %v", err)
			}
			if _, err := c.CreateTable(ctx, ident, testSchema()); !errors.Is(err, catalog.ErrTableAlreadyExists) {
				t.Errorf("creating the table again: %v, want catalog.ErrTableAlreadyExists", err)
			}
			if ok, err := c.CheckNamespaceExists(ctx, ns); err != nil || !ok {
				t.Errorf("CheckNamespaceExists: %v, %v", ok, err)
			}
			if ok, err := c.CheckNamespaceExists(ctx, ident); err != nil || ok {
				t.Errorf("a table taken for a namespace: %v, %v", ok, err)
			}
			if ok, err := c.CheckTableExists(ctx, ident); err != nil || !ok {
				t.Errorf("CheckTableExists: %v, %v", ok, err)
			}
			if props, err := c.LoadNamespaceProperties(ctx, ns); err != nil || props["location"] != c.Location(ns) {
				t.Errorf("namespace properties %v, %v", props, err)
			}

			// A second table with every option CreateTable honors.
			other := table.Identifier{"sales", "returns"}
			spec := iceberg.NewPartitionSpec(iceberg.PartitionField{SourceIDs: []int{1}, FieldID: 1000, Name: "id_bucket", Transform: iceberg.BucketTransform{NumBuckets: 4}})
			order, err := table.NewSortOrder(1, []table.SortField{{SourceIDs: []int{1}, Transform: iceberg.IdentityTransform{}, Direction: table.SortASC, NullOrder: table.NullsFirst}})
			if err != nil {
				t.Fatal(err)
			}
			dataAt := c.Warehouse() + "/elsewhere/returns"
			if _, err := c.CreateTable(ctx, other, testSchema(),
				catalog.WithLocation(dataAt), catalog.WithProperties(iceberg.Properties{"owner": "s3load"}),
				catalog.WithPartitionSpec(&spec), catalog.WithSortOrder(order)); err != nil {
				t.Fatal(err)
			}
			loaded, err := c.LoadTable(ctx, other)
			if err != nil {
				t.Fatal(err)
			}
			md := loaded.Metadata()
			if md.Location() != dataAt || md.Properties()["owner"] != "s3load" ||
				!partitioned(md) || md.SortOrder().Len() != 1 {
				t.Errorf("options not kept: location %s, properties %v, spec %v, order %v",
					md.Location(), md.Properties(), md.PartitionSpec(), md.SortOrder())
			}
			if want := c.metadataFile(other, 1); loaded.MetadataLocation() != want {
				t.Errorf("metadata at %s, want %s", loaded.MetadataLocation(), want)
			}

			var tables []string
			for id, err := range c.ListTables(ctx, ns) {
				if err != nil {
					t.Fatal(err)
				}
				tables = append(tables, strings.Join(id, "."))
			}
			if want := []string{"sales.orders", "sales.returns"}; !slices.Equal(tables, want) {
				t.Errorf("tables %v, want %v", tables, want)
			}
			nss, err := c.ListNamespaces(ctx, nil)
			if err != nil || len(nss) != 1 || !slices.Equal(nss[0], ns) {
				t.Errorf("namespaces %v, %v; want [%v]", nss, err, ns)
			}
			if err := c.DropNamespace(ctx, ns); !errors.Is(err, catalog.ErrNamespaceNotEmpty) {
				t.Errorf("dropping a namespace with tables: %v", err)
			}

			for _, id := range []table.Identifier{ident, other} {
				if err := c.DropTable(ctx, id); err != nil {
					t.Fatal(err)
				}
				if ok, err := c.CheckTableExists(ctx, id); err != nil || ok {
					t.Errorf("%v after dropping: %v, %v", id, ok, err)
				}
			}
			if err := c.DropTable(ctx, ident); !errors.Is(err, catalog.ErrNoSuchTable) {
				t.Errorf("dropping a dropped table: %v", err)
			}
			if _, err := c.RenameTable(ctx, ident, other); !errors.Is(err, ErrUnsupported) {
				t.Errorf("RenameTable: %v, want ErrUnsupported", err)
			}
			if _, err := c.CreateTable(ctx, table.Identifier{"sales", "a/b"}, testSchema()); !errors.Is(err, catalog.ErrInvalidIdentifier) {
				t.Errorf("a table name with a slash: %v", err)
			}
		})
	}
}

// TestCreateByCommit: a commit asserting creation makes a missing table.
func TestCreateByCommit(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			ctx, _ := testCtx(t)
			c := newWarehouse(t, kind)(t)
			updates := []table.Update{
				table.NewAddSchemaUpdate(testSchema()),
				table.NewSetCurrentSchemaUpdate(-1),
				table.NewAddPartitionSpecUpdate(iceberg.UnpartitionedSpec, true),
				table.NewSetDefaultSpecUpdate(-1),
				table.NewAddSortOrderUpdate(&table.UnsortedSortOrder),
				table.NewSetDefaultSortOrderUpdate(-1),
			}
			reqs := []table.Requirement{table.AssertCreate()}
			meta, loc, err := c.CommitTable(ctx, ident, reqs, updates)
			if err != nil {
				t.Fatal(err)
			}
			if loc != c.metadataFile(ident, 1) || meta.Location() != c.Location(ident) {
				t.Errorf("created at %s (location %s)", loc, meta.Location())
			}
			if _, _, err := c.CommitTable(ctx, ident, reqs, updates); !errors.Is(err, table.ErrCommitFailed) {
				t.Errorf("creating it again: %v, want table.ErrCommitFailed", err)
			}
		})
	}
}

func partitioned(md table.Metadata) bool {
	spec := md.PartitionSpec()
	return !spec.IsUnpartitioned()
}
