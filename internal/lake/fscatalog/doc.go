// Package fscatalog owns s3load's default Iceberg catalog, one that needs
// no service: the catalog is the warehouse itself, a local directory
// (file:///abs/path) or an S3 prefix (s3://bucket/prefix), laid out as
// Hadoop's catalog and DuckDB's iceberg_scan expect:
//
//	<warehouse>/<namespace...>/<table>/metadata/v1.metadata.json, v2...
//	<warehouse>/<namespace...>/<table>/metadata/version-hint.text   (N)
//	<warehouse>/<namespace...>/<table>/data/...                     (writers')
//
// A namespace is a directory (a key prefix on S3, which exists while a key
// lies below it).
//
// # Commits
//
// A commit reads the current version N, checks the requirements against
// it, applies the updates and creates vN+1.metadata.json with
// lakeio.FS.CreateExclusive: of two commits from the same version exactly
// one creates the file; the other fails with an error wrapping
// table.ErrCommitFailed and wrote nothing. Only then is version-hint.text
// rewritten, best effort: the hint may lag (a crash, or two commits
// finishing out of order), so loading reads vN from the hint and probes
// vN+1, vN+2... until one is missing; without a hint it lists metadata/.
// A load that finds the hint lagging rewrites it, for readers that trust
// the hint alone.
//
// Metadata files are written uncompressed whatever
// write.metadata.compression-codec says, as the vN.metadata.json names
// promise.
package fscatalog
