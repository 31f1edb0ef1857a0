package config

import (
	"regexp"
	"strings"

	"github.com/s3load/s3load/internal/lake"
)

// Table formats: what a committed table is.
const (
	// FormatIceberg commits each table as an Apache Iceberg v2 table, one
	// snapshot per load, through a catalog.
	FormatIceberg = "iceberg"
	// FormatParquet keeps a directory of Parquet parts and s3load's own
	// _manifest.json (local: a link switched atomically).
	FormatParquet = "parquet"
)

// Parquet encodings: how data files lay out their values (see
// Config.ParquetEncodings).
const (
	EncodingsDelta   = "delta"
	EncodingsPlain   = "plain"
	EncodingsCompact = "compact"
)

// Defaults of the table format's settings.
const (
	DefaultTableFormat = FormatIceberg
	// DefaultParquetEncodings is chosen by BenchmarkParquetWrite
	// (docs/performance.md).
	DefaultParquetEncodings = EncodingsDelta
	DefaultNamespace        = "default"
	DefaultKeepSnapshots    = lake.DefaultKeepSnapshots
	DefaultCatalogType      = CatalogFilesystem
)

// Catalog types.
const (
	// CatalogFilesystem keeps each table's metadata in the target itself
	// (metadata/vN.metadata.json and version-hint.text): no service.
	CatalogFilesystem = "filesystem"
	// CatalogSQL is iceberg-go's SQL catalog: SQLite for one machine, or
	// PostgreSQL.
	CatalogSQL = "sql"
	// CatalogREST is an Iceberg REST catalog (Polaris, Nessie, Glue's and
	// S3 Tables' REST endpoints, ...).
	CatalogREST = "rest"
)

// Catalog is where Iceberg tables are registered.
type Catalog struct {
	// Type is filesystem (default), sql or rest.
	Type string `yaml:"type"`
	// URI is the REST catalog's base URL, or the SQL catalog's database:
	// sqlite:///path/catalog.db, or a postgres:// DSN.
	URI string `yaml:"uri"`
	// Warehouse is passed to a REST catalog (it names the warehouse there).
	Warehouse string `yaml:"warehouse"`
	// Token is a REST catalog's bearer token.
	Token Secret `yaml:"token"`
	// ClientID and ClientSecret are OAuth2 client credentials, exchanged
	// for a token at OAuth2ServerURI (default: the catalog's
	// /v1/oauth/tokens) with Scope.
	ClientID        string `yaml:"client_id"`
	ClientSecret    Secret `yaml:"client_secret"`
	OAuth2ServerURI string `yaml:"oauth2_server_uri"`
	Scope           string `yaml:"scope"`
	// SigV4 signs REST requests with AWS credentials (the source's chain,
	// or target_s3's): service glue for AWS Glue's Iceberg REST endpoint,
	// s3tables for S3 Tables'.
	SigV4 *SigV4 `yaml:"sigv4"`
}

// SigV4 is AWS request signing for a REST catalog.
type SigV4 struct {
	Service string `yaml:"service"`
	Region  string `yaml:"region"`
}

var namespacePart = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_-]{0,127}$`)

// NamespaceLevels splits the dotted namespace into its levels.
func (c Config) NamespaceLevels() []string { return strings.Split(c.Namespace, ".") }

func (c Config) validateTableFormat(bad func(key, format string, args ...any)) {
	switch c.TableFormat {
	case FormatIceberg:
	case FormatParquet:
		if c.Catalog != nil {
			bad("catalog", "is for table_format: iceberg only")
		}
		return
	default:
		bad("table_format", "must be iceberg or parquet (got %q)", c.TableFormat)
		return
	}
	for _, level := range c.NamespaceLevels() {
		if !namespacePart.MatchString(level) {
			bad("namespace", "levels separated by '.' must each be 1-128 letters, digits, '_' or '-' (got %q)", c.Namespace)
			break
		}
	}
	if c.KeepSnapshots < 1 {
		bad("keep_snapshots", "must be at least 1 (got %d)", c.KeepSnapshots)
	}
	if c.Catalog == nil {
		return
	}
	switch c.Catalog.Type {
	case CatalogFilesystem:
	case CatalogSQL:
		if !strings.HasPrefix(c.Catalog.URI, "sqlite://") && !strings.HasPrefix(c.Catalog.URI, "postgres://") && !strings.HasPrefix(c.Catalog.URI, "postgresql://") {
			bad("catalog.uri", "a sql catalog needs sqlite:///path/catalog.db or a postgres:// DSN")
		}
	case CatalogREST:
		if !strings.HasPrefix(c.Catalog.URI, "http://") && !strings.HasPrefix(c.Catalog.URI, "https://") {
			bad("catalog.uri", "a rest catalog needs its http(s):// base URL")
		}
		if (c.Catalog.ClientID == "") != (c.Catalog.ClientSecret == "") {
			bad("catalog.client_id", "client_id and client_secret go together")
		}
		if s := c.Catalog.SigV4; s != nil && s.Service != "glue" && s.Service != "s3tables" && s.Service != "execute-api" {
			bad("catalog.sigv4.service", "must be glue, s3tables or execute-api (got %q)", s.Service)
		}
	default:
		bad("catalog.type", "must be filesystem, sql or rest (got %q)", c.Catalog.Type)
	}
}
