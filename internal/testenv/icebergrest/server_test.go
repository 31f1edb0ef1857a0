package icebergrest_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute/exec"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/catalog/rest"
	"github.com/apache/iceberg-go/table"

	"github.com/s3load/s3load/internal/testenv/icebergrest"
)

var (
	ns    = table.Identifier{"raw", "sales"} // two levels: exercises the %1F separator
	ident = table.Identifier{"raw", "sales", "orders"}

	icebergSchema = iceberg.NewSchema(0,
		iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.Int64, Required: true},
		iceberg.NestedField{ID: 2, Name: "name", Type: iceberg.PrimitiveTypes.String},
	)
	arrowSchema = arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
)

// connect opens iceberg-go's REST client on srv.
func connect(t *testing.T, srv *icebergrest.Server, opts ...rest.Option) *rest.Catalog {
	t.Helper()
	cat, err := rest.NewCatalog(t.Context(), "rest", srv.URL, opts...)
	if err != nil {
		t.Fatalf("opening REST catalog: %v", err)
	}
	t.Cleanup(func() { _ = cat.Close() })
	return cat
}

// withTable creates ns and an empty table in it.
func withTable(t *testing.T, cat catalog.Catalog) *table.Table {
	t.Helper()
	if err := cat.CreateNamespace(t.Context(), ns, nil); err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	tbl, err := cat.CreateTable(t.Context(), ident, icebergSchema)
	if err != nil {
		t.Fatalf("creating table: %v", err)
	}
	return tbl
}

// testCtx carries a checked allocator that iceberg-go's writer and scanner
// use, and asserts at the end that nothing leaked.
func testCtx(t *testing.T) (context.Context, memory.Allocator) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return exec.WithAllocator(t.Context(), mem), mem
}

// appendRows commits an append of ids (named "n<id>") in one transaction.
func appendRows(ctx context.Context, t *testing.T, mem memory.Allocator, tbl *table.Table, ids ...int64) (*table.Table, error) {
	t.Helper()
	b := array.NewRecordBuilder(mem, arrowSchema)
	defer b.Release()
	for _, id := range ids {
		b.Field(0).(*array.Int64Builder).Append(id)
		b.Field(1).(*array.StringBuilder).Append("n" + string(rune('0'+id%10)))
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	at := array.NewTableFromRecords(arrowSchema, []arrow.RecordBatch{rec})
	defer at.Release()

	txn := tbl.NewTransaction()
	if err := txn.AppendTable(ctx, at, 1024, nil); err != nil {
		t.Fatalf("appending: %v", err)
	}
	return txn.Commit(ctx)
}

// scanIDs reads the table's id column.
func scanIDs(ctx context.Context, t *testing.T, tbl *table.Table) []int64 {
	t.Helper()
	at, err := tbl.Scan().ToArrowTable(ctx)
	if err != nil {
		t.Fatalf("scanning: %v", err)
	}
	defer at.Release()
	var ids []int64
	for _, chunk := range at.Column(0).Data().Chunks() {
		ids = append(ids, chunk.(*array.Int64).Int64Values()...)
	}
	slices.Sort(ids)
	return ids
}

func TestRoundTrip(t *testing.T) {
	ctx, mem := testCtx(t)
	srv := icebergrest.Start(t, icebergrest.WithToken("tok-1"))
	cat := connect(t, srv, rest.WithOAuthToken("tok-1"))

	tbl := withTable(t, cat)
	if ok, err := cat.CheckNamespaceExists(ctx, ns); err != nil || !ok {
		t.Fatalf("namespace exists = %v, %v; want true", ok, err)
	}
	if ok, err := cat.CheckTableExists(ctx, ident); err != nil || !ok {
		t.Fatalf("table exists = %v, %v; want true", ok, err)
	}
	if ok, err := cat.CheckTableExists(ctx, table.Identifier{"raw", "sales", "nope"}); err != nil || ok {
		t.Fatalf("missing table exists = %v, %v; want false", ok, err)
	}

	if _, err := appendRows(ctx, t, mem, tbl, 1, 2, 3); err != nil {
		t.Fatalf("committing: %v", err)
	}
	if got := srv.Commits(); got != 1 {
		t.Errorf("Commits() = %d, want 1", got)
	}

	loaded, err := cat.LoadTable(ctx, ident)
	if err != nil {
		t.Fatalf("loading: %v", err)
	}
	if loaded.CurrentSnapshot() == nil {
		t.Fatal("loaded table has no snapshot")
	}
	if got := scanIDs(ctx, t, loaded); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Errorf("scanned ids %v, want [1 2 3]", got)
	}

	var ids []table.Identifier
	for id, err := range cat.ListTables(ctx, ns) {
		if err != nil {
			t.Fatalf("listing tables: %v", err)
		}
		ids = append(ids, id)
	}
	if len(ids) != 1 || !slices.Equal(ids[0], ident) {
		t.Errorf("tables %v, want [%v]", ids, ident)
	}

	reqs := srv.Requests()
	for _, want := range []string{
		"GET /v1/config",
		"POST /v1/namespaces",
		"HEAD /v1/namespaces/raw%1Fsales",
		"POST /v1/namespaces/raw%1Fsales/tables",
		"HEAD /v1/namespaces/raw%1Fsales/tables/orders",
		"POST /v1/namespaces/raw%1Fsales/tables/orders",
		"GET /v1/namespaces/raw%1Fsales/tables/orders",
	} {
		if !slices.Contains(reqs, want) {
			t.Errorf("no %q among requests %q", want, reqs)
		}
	}
}

func TestCommitFaults(t *testing.T) {
	tests := []struct {
		name    string
		inject  func(*icebergrest.Server)
		wantErr func(error) bool
		applied bool
	}{
		{
			name:   "409 refused is a conflict",
			inject: func(s *icebergrest.Server) { s.FailNextCommits(1, 409) },
			wantErr: func(err error) bool {
				return errors.Is(err, table.ErrCommitFailed) && errors.Is(err, rest.ErrCommitFailed)
			},
		},
		{
			name:   "503 refused is state unknown, not a conflict",
			inject: func(s *icebergrest.Server) { s.FailNextCommits(1, 503) },
			wantErr: func(err error) bool {
				return errors.Is(err, rest.ErrCommitStateUnknown) && !errors.Is(err, table.ErrCommitFailed)
			},
		},
		{
			name:   "dropped connection, not applied",
			inject: func(s *icebergrest.Server) { s.FailNextCommits(1, icebergrest.DropConnection) },
			wantErr: func(err error) bool {
				return !errors.Is(err, rest.ErrRESTError) && !errors.Is(err, table.ErrCommitFailed)
			},
		},
		{
			name:   "applied, 503 reply",
			inject: func(s *icebergrest.Server) { s.LoseNextCommitReply(1, 503) },
			wantErr: func(err error) bool {
				return errors.Is(err, rest.ErrCommitStateUnknown) && !errors.Is(err, table.ErrCommitFailed)
			},
			applied: true,
		},
		{
			name:   "applied, dropped connection",
			inject: func(s *icebergrest.Server) { s.LoseNextCommitReply(1, icebergrest.DropConnection) },
			wantErr: func(err error) bool {
				return !errors.Is(err, rest.ErrRESTError) && !errors.Is(err, table.ErrCommitFailed)
			},
			applied: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, mem := testCtx(t)
			srv := icebergrest.Start(t)
			cat := connect(t, srv)
			tbl := withTable(t, cat)

			tt.inject(srv)
			_, err := appendRows(ctx, t, mem, tbl, 7)
			if err == nil || !tt.wantErr(err) {
				t.Fatalf("commit error = %v (%T)", err, err)
			}
			t.Logf("client error: %v", err)

			wantCommits, wantIDs := 0, []int64(nil)
			if tt.applied {
				wantCommits, wantIDs = 1, []int64{7}
			}
			if got := srv.Commits(); got != wantCommits {
				t.Errorf("Commits() = %d, want %d", got, wantCommits)
			}
			loaded, err := cat.LoadTable(ctx, ident)
			if err != nil {
				t.Fatalf("loading: %v", err)
			}
			if got := scanIDs(ctx, t, loaded); !slices.Equal(got, wantIDs) {
				t.Errorf("scanned ids %v, want %v", got, wantIDs)
			}

			// The fault was for one commit only: the next one lands.
			if _, err := appendRows(ctx, t, mem, loaded, 8); err != nil {
				t.Fatalf("committing after the fault: %v", err)
			}
			if got := srv.Commits(); got != wantCommits+1 {
				t.Errorf("Commits() after retry = %d, want %d", got, wantCommits+1)
			}
		})
	}
}

// A real conflict: two writers start from the same table; the second's
// requirement (main still at its old snapshot) fails with a 409.
func TestConcurrentCommitConflicts(t *testing.T) {
	ctx, mem := testCtx(t)
	srv := icebergrest.Start(t)
	cat := connect(t, srv)
	tbl := withTable(t, cat)

	if _, err := appendRows(ctx, t, mem, tbl, 1); err != nil {
		t.Fatalf("first writer: %v", err)
	}
	_, err := appendRows(ctx, t, mem, tbl, 2)
	if !errors.Is(err, table.ErrCommitFailed) {
		t.Fatalf("second writer's error = %v, want table.ErrCommitFailed", err)
	}
	t.Logf("client error: %v", err)
	if got := srv.Commits(); got != 1 {
		t.Errorf("Commits() = %d, want 1", got)
	}
}

func TestCatalogErrors(t *testing.T) {
	srv := icebergrest.Start(t)
	cat := connect(t, srv)
	ctx := t.Context()
	withTable(t, cat)

	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"load missing table", func() error {
			_, err := cat.LoadTable(ctx, table.Identifier{"raw", "sales", "nope"})
			return err
		}, catalog.ErrNoSuchTable},
		{"create table in missing namespace", func() error {
			_, err := cat.CreateTable(ctx, table.Identifier{"nope", "t"}, icebergSchema)
			return err
		}, catalog.ErrNoSuchNamespace},
		{"create existing table", func() error {
			_, err := cat.CreateTable(ctx, ident, icebergSchema)
			return err
		}, catalog.ErrTableAlreadyExists},
		{"create existing namespace", func() error {
			return cat.CreateNamespace(ctx, ns, nil)
		}, catalog.ErrNamespaceAlreadyExists},
		{"drop non-empty namespace", func() error {
			return cat.DropNamespace(ctx, ns)
		}, catalog.ErrNamespaceNotEmpty},
		{"list tables of missing namespace", func() error {
			for _, err := range cat.ListTables(ctx, table.Identifier{"nope"}) {
				return err
			}
			return nil
		}, catalog.ErrNoSuchNamespace},
		{"commit to missing table", func() error {
			_, _, err := cat.CommitTable(ctx, table.Identifier{"raw", "sales", "nope"}, nil,
				[]table.Update{table.NewSetPropertiesUpdate(iceberg.Properties{"k": "v"})})
			return err
		}, catalog.ErrNoSuchTable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, tt.want) {
				t.Errorf("error = %v, want %v", err, tt.want)
			}
		})
	}
}

// A staged create is a create-table with stage-create, then a commit with
// assert-create; the table exists only after the commit.
func TestStagedCreate(t *testing.T) {
	srv := icebergrest.Start(t)
	cat := connect(t, srv)
	ctx := t.Context()
	if err := cat.CreateNamespace(ctx, ns, nil); err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	_, err := cat.CreateTable(ctx, ident, icebergSchema,
		catalog.WithStagedUpdates(table.NewSetPropertiesUpdate(iceberg.Properties{"owner": "s3load"})))
	if err != nil {
		t.Fatalf("staged create: %v", err)
	}
	loaded, err := cat.LoadTable(ctx, ident)
	if err != nil {
		t.Fatalf("loading: %v", err)
	}
	if got := loaded.Properties()["owner"]; got != "s3load" {
		t.Errorf("property owner = %q, want s3load", got)
	}
	if got := loaded.Schema().NumFields(); got != 2 {
		t.Errorf("schema has %d fields, want 2", got)
	}
}

func TestBearerToken(t *testing.T) {
	srv := icebergrest.Start(t, icebergrest.WithToken("right"))
	for _, opts := range [][]rest.Option{
		{rest.WithOAuthToken("wrong")},
		nil, // no token at all
	} {
		_, err := rest.NewCatalog(t.Context(), "rest", srv.URL, opts...)
		if !errors.Is(err, rest.ErrUnauthorized) {
			t.Errorf("NewCatalog error = %v, want rest.ErrUnauthorized", err)
		}
	}
	connect(t, srv, rest.WithOAuthToken("right"))
}

func TestClientCredentials(t *testing.T) {
	srv := icebergrest.Start(t, icebergrest.WithClientCredentials("loader", "s3cret"))

	_, err := rest.NewCatalog(t.Context(), "rest", srv.URL, rest.WithCredential("loader:wrong"))
	if !errors.Is(err, rest.ErrOAuthError) {
		t.Errorf("wrong secret: error = %v, want rest.ErrOAuthError", err)
	}

	cat := connect(t, srv, rest.WithCredential("loader:s3cret"))
	withTable(t, cat)
	if !slices.Contains(srv.Requests(), "POST /v1/oauth/tokens") {
		t.Errorf("no token request among %q", srv.Requests())
	}
}
