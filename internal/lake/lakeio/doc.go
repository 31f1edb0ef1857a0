// Package lakeio owns the files of s3load's Iceberg tables: reading,
// writing, listing and removing them at local paths (file:///abs/path or
// /abs/path) and at S3 URLs (s3://bucket/key) through an ObjectStore, and
// the one write a filesystem catalog commits with, CreateExclusive: a file
// created only if absent, atomically (link(2) locally, a conditional PUT
// on S3).
//
// An FS is safe for concurrent use and holds no context. iceberg-go's
// io.IO methods take none, so FS.IO binds one: the IO it returns serves
// the one operation (a commit, a scan) whose context it was given, and is
// what a table's FS function returns.
//
// On S3, Open reads the whole object into memory: the files Iceberg reads
// back while committing (metadata, manifest lists, manifests) are small.
//
// Local files are created 0644 and directories 0755, less the umask, so
// other users can read the tables.
package lakeio
