package config

import (
	"strings"
	"testing"
)

func tableFormatDoc(block string) string {
	return valid + block
}

func TestTableFormatDefaults(t *testing.T) {
	vars := env(map[string]string{"S3_KEY": "k", "S3_SECRET": "s", "CATALOG_TOKEN": "tok"})
	c, err := Parse([]byte(valid), vars)
	if err != nil {
		t.Fatal(err)
	}
	if c.TableFormat != FormatIceberg || c.Namespace != DefaultNamespace || c.KeepSnapshots != DefaultKeepSnapshots || c.Catalog != nil || c.ParquetEncodings != EncodingsDelta {
		t.Errorf("defaults: format %q, namespace %q, keep %d, catalog %+v, encodings %q", c.TableFormat, c.Namespace, c.KeepSnapshots, c.Catalog, c.ParquetEncodings)
	}
	if c, err := Parse([]byte(tableFormatDoc("parquet_encodings: plain\n")), vars); err != nil || c.ParquetEncodings != EncodingsPlain {
		t.Errorf("parquet_encodings: plain: %q, %v", c.ParquetEncodings, err)
	}
	c, err = Parse([]byte(tableFormatDoc("namespace: raw.sales\nkeep_snapshots: 2\ncatalog:\n  uri: https://cat.example/api\n  type: rest\n  token: ${CATALOG_TOKEN}\n")), vars)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.NamespaceLevels(); len(got) != 2 || got[0] != "raw" || got[1] != "sales" || c.Catalog.Token.Reveal() != "tok" {
		t.Errorf("namespace levels %v, token %q", got, c.Catalog.Token.Reveal())
	}
}

func TestTableFormatRejected(t *testing.T) {
	vars := env(map[string]string{"S3_KEY": "k", "S3_SECRET": "s"})
	tests := []struct {
		name, block, want string
	}{
		{"unknown format", "table_format: delta\n", `table_format: must be iceberg or parquet (got "delta")`},
		{"unknown encodings", "parquet_encodings: v2\n", `parquet_encodings: must be delta, plain or compact (got "v2")`},
		{"bad namespace", "namespace: raw..x\n", "namespace: levels"},
		{"keep none", "keep_snapshots: -1\n", "keep_snapshots: must be at least 1"},
		{"catalog for parquet", "table_format: parquet\ncatalog: { type: sql, uri: \"sqlite:///x.db\" }\n", "catalog: is for table_format: iceberg only"},
		{"unknown catalog", "catalog: { type: glue }\n", "catalog.type: must be filesystem, sql or rest"},
		{"sql without uri", "catalog: { type: sql }\n", "catalog.uri: a sql catalog needs"},
		{"rest without uri", "catalog: { type: rest }\n", "catalog.uri: a rest catalog needs"},
		{"half credentials", "catalog: { type: rest, uri: \"https://c\", client_id: me }\n", "catalog.client_id: client_id and client_secret go together"},
		{"bad sigv4", "catalog: { type: rest, uri: \"https://c\", sigv4: { service: s3 } }\n", "catalog.sigv4.service"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tableFormatDoc(tc.block)), vars)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
