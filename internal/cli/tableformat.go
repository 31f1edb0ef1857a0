package cli

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"

	"github.com/s3load/s3load/internal/config"
	"github.com/s3load/s3load/internal/lake"
	"github.com/s3load/s3load/internal/lake/fscatalog"
	"github.com/s3load/s3load/internal/lake/lakeio"
)

// openLake builds the Iceberg committer of an iceberg config (a no-op for
// plain Parquet): only a coordinator needs the catalog, so workers never
// hold its credentials or wait for it.
func (ad *adapters) openLake(ctx context.Context, c config.Config, job string, log *slog.Logger) error {
	if c.TableFormat != config.FormatIceberg || ad.lake != nil {
		return nil
	}
	var store lakeio.ObjectStore
	if ad.targetStore != nil {
		store = ad.targetStore
	}
	fsys := lakeio.New(store)
	var cat catalog.Catalog
	var err error
	cc := c.Catalog
	if cc == nil {
		cc = &config.Catalog{Type: config.CatalogFilesystem}
	}
	switch cc.Type {
	case config.CatalogFilesystem:
		cat, err = fscatalog.New(c.Target, fsys, fscatalog.WithLogger(log))
	case config.CatalogSQL:
		var closeDB func() error
		var ioProps iceberg.Properties
		if ad.targetStore != nil {
			ts := c.Source
			if c.TargetS3 != nil {
				ts = *c.TargetS3
				ts.Region = cmp.Or(ts.Region, c.Source.Region)
			}
			ioProps = lake.S3IOProps(ts.Region, ts.Endpoint, ts.AccessKeyID, ts.SecretAccessKey.Reveal(), ts.PathStyle)
		}
		cat, closeDB, err = lake.OpenSQL(ctx, cc.URI, ioProps)
		ad.closers = append(ad.closers, closeDB)
	case config.CatalogREST:
		rc := lake.RESTConfig{
			URI: cc.URI, Warehouse: cc.Warehouse, Token: cc.Token.Reveal(),
			ClientID: cc.ClientID, ClientSecret: cc.ClientSecret.Reveal(), OAuth2ServerURI: cc.OAuth2ServerURI, Scope: cc.Scope,
		}
		if cc.SigV4 != nil {
			rc.SigV4Service, rc.SigV4Region = cc.SigV4.Service, cmp.Or(cc.SigV4.Region, c.Source.Region)
			awsCfg := ad.source.AWSConfig()
			if ad.targetStore != nil {
				awsCfg = ad.targetStore.AWSConfig()
			}
			rc.AWS = &awsCfg
		}
		cat, err = lake.OpenREST(ctx, rc)
	}
	if err != nil {
		return fmt.Errorf("opening the catalog: %w", err)
	}
	if cc.Type != config.CatalogFilesystem {
		// Whatever the catalog, table files go through s3load's own IO.
		cat = lake.WithIO(cat, fsys.IOFunc())
	}
	ad.lake, err = lake.New(lake.Config{
		Catalog: cat, Namespace: c.NamespaceLevels(), Target: ad.target,
		Job: job, KeepSnapshots: c.KeepSnapshots, Logger: log,
	})
	return err
}
