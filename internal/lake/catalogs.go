package lake

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/catalog/rest"
	sqlcat "github.com/apache/iceberg-go/catalog/sql"
	icebergio "github.com/apache/iceberg-go/io"
	_ "github.com/apache/iceberg-go/io/gocloud/s3" // iceberg-go's S3 IO, which a SQL catalog writes metadata with
	"github.com/aws/aws-sdk-go-v2/aws"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", for a PostgreSQL SQL catalog
	_ "modernc.org/sqlite"             // database/sql driver "sqlite", pure Go, for a SQLite SQL catalog
)

// RESTConfig connects to an Iceberg REST catalog.
type RESTConfig struct {
	URI       string
	Warehouse string
	// Token is a bearer token; ClientID and ClientSecret are OAuth2 client
	// credentials exchanged at OAuth2ServerURI (default: the catalog's
	// /v1/oauth/tokens) for Scope.
	Token, ClientID, ClientSecret, OAuth2ServerURI, Scope string
	// SigV4Service (glue, s3tables, execute-api) signs requests with AWS
	// for SigV4Region.
	SigV4Service, SigV4Region string
	AWS                       *aws.Config
}

// OpenREST connects to a REST catalog (it fetches the catalog's config).
func OpenREST(ctx context.Context, c RESTConfig) (catalog.Catalog, error) {
	var opts []rest.Option
	if c.Warehouse != "" {
		opts = append(opts, rest.WithWarehouseLocation(c.Warehouse))
	}
	switch {
	case c.Token != "":
		opts = append(opts, rest.WithOAuthToken(c.Token))
	case c.ClientID != "":
		opts = append(opts, rest.WithCredential(c.ClientID+":"+c.ClientSecret))
		if c.Scope != "" {
			opts = append(opts, rest.WithScope(c.Scope))
		}
		if c.OAuth2ServerURI != "" {
			u, err := url.Parse(c.OAuth2ServerURI)
			if err != nil {
				return nil, fmt.Errorf("parsing catalog.oauth2_server_uri: %w", err)
			}
			opts = append(opts, rest.WithAuthURI(u))
		}
	}
	if c.SigV4Service != "" {
		opts = append(opts, rest.WithSigV4RegionSvc(c.SigV4Region, c.SigV4Service))
		if c.AWS != nil {
			opts = append(opts, rest.WithAwsConfig(*c.AWS))
		}
	}
	cat, err := rest.NewCatalog(ctx, "s3load", c.URI, opts...)
	if err != nil {
		return nil, fmt.Errorf("connecting to the REST catalog %s: %w", RedactURL(c.URI), err)
	}
	return cat, nil
}

// OpenSQL opens iceberg-go's SQL catalog on sqlite:///path/catalog.db or
// a postgres:// DSN, creating its tables when missing. The catalog writes
// each table's metadata file itself, through iceberg-go's IO for the
// table's location: ioProps configure it (S3IOProps for an s3:// target).
func OpenSQL(_ context.Context, uri string, ioProps iceberg.Properties) (catalog.Catalog, func() error, error) {
	driver, dsn, dialect := "", "", sqlcat.SupportedDialect("")
	switch {
	case strings.HasPrefix(uri, "sqlite://"):
		driver, dsn, dialect = "sqlite", strings.TrimPrefix(uri, "sqlite://"), sqlcat.SQLite
		dsn += "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"
	case strings.HasPrefix(uri, "postgres://"), strings.HasPrefix(uri, "postgresql://"):
		driver, dsn, dialect = "pgx", uri, sqlcat.Postgres
	default:
		return nil, nil, fmt.Errorf("catalog.uri %s: want sqlite:///path or postgres://", RedactURL(uri))
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("opening the SQL catalog %s: %w", RedactURL(uri), err)
	}
	props := iceberg.Properties{"init_catalog_tables": "true"}
	for k, v := range ioProps {
		props[k] = v
	}
	cat, err := sqlcat.NewCatalog("s3load", db, dialect, props)
	if err != nil {
		_ = db.Close()
		return nil, nil, fmt.Errorf("opening the SQL catalog %s: %w", RedactURL(uri), err)
	}
	return cat, db.Close, nil
}

// S3IOProps configure iceberg-go's own S3 IO (what a SQL catalog writes
// metadata files with) like s3load's target store. Empty keys leave the
// AWS credential chain.
func S3IOProps(region, endpoint, accessKeyID, secretAccessKey string, pathStyle bool) iceberg.Properties {
	p := iceberg.Properties{icebergio.S3Region: region}
	if endpoint != "" {
		p[icebergio.S3EndpointURL] = endpoint
	}
	if accessKeyID != "" {
		p[icebergio.S3AccessKeyID], p[icebergio.S3SecretAccessKey] = accessKeyID, secretAccessKey
	}
	if pathStyle {
		p[icebergio.S3ForceVirtualAddressing] = "false"
	}
	return p
}

// RedactURL drops a password from a URL for messages.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "REDACTED")
	}
	return u.String()
}
