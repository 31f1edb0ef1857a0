package lake

import (
	"context"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	icebergio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/table"
)

// withIO makes a catalog's tables read and write their files through fsF
// instead of the IO the catalog would load from its properties: manifests
// and data then go through s3load's own S3 adapter (its credentials, its
// error classification, its write settings) whatever the catalog.
type withIO struct {
	catalog.Catalog
	fsF table.FSysF
}

// WithIO wraps cat so its tables use fsF for their files.
func WithIO(cat catalog.Catalog, fsF table.FSysF) catalog.Catalog {
	return &withIO{Catalog: cat, fsF: fsF}
}

func (w *withIO) wrap(t *table.Table) *table.Table {
	if t == nil {
		return nil
	}
	return table.New(t.Identifier(), t.Metadata(), t.MetadataLocation(), w.fsF, w)
}

func (w *withIO) LoadTable(ctx context.Context, ident table.Identifier) (*table.Table, error) {
	t, err := w.Catalog.LoadTable(ctx, ident)
	return w.wrap(t), err
}

func (w *withIO) CreateTable(ctx context.Context, ident table.Identifier, sc *iceberg.Schema, opts ...catalog.CreateTableOpt) (*table.Table, error) {
	t, err := w.Catalog.CreateTable(ctx, ident, sc, opts...)
	return w.wrap(t), err
}

// LocalFS is the IO of a file:// target.
func LocalFS(context.Context) (icebergio.IO, error) { return icebergio.LocalFS{}, nil }
