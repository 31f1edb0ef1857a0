// Package lake owns s3load's Apache Iceberg tables: how an Arrow schema
// becomes an Iceberg schema (types and field IDs, evolved against the
// table's current one), how a reconciled load becomes one snapshot of its
// table through a catalog (idempotent, fenced, retried), and how old
// snapshots expire. Parts are written by workers and described in their
// records (messages.PartStats); a commit reads none of them.
package lake
