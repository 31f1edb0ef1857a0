// Package lakecheck owns an Iceberg table reader for tests that is
// independent of iceberg-go: it walks metadata.json, the manifest list and
// the manifests with its own Avro decoding, reads every live Parquet data
// file, and fails loudly when the metadata and the files disagree.
//
// It exists so that what s3load writes with iceberg-go is checked by code
// that shares none of iceberg-go's reading paths; it must never import
// github.com/apache/iceberg-go.
package lakecheck
