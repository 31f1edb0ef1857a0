// Package target owns where tables land and how they commit: the staging
// area each load writes its Parquet parts into, the atomic switch that makes
// one load's parts the table, the lease that lets one load of a table run at
// a time, and the removal of what failed loads leave behind.
//
// # Layout
//
// On a local path a table is a symbolic link, <root>/<table>, to the load
// directory <root>/.s3load/<table>/<load>/ holding the parts and
// _manifest.json; committing renames a new link over the old one, which is
// atomic, so a reader sees the previous load or the new one, never a mix.
//
// On S3, where nothing renames, parts go to <prefix>/<table>/<load>/ and the
// commit is one PUT of <prefix>/<table>/_manifest.json, whose paths are
// relative to <prefix>/<table>/: readers follow the manifest.
//
// Beside the loads, names starting with "_" are s3load's own (the manifest,
// the lease). Local files are created 0644 and directories 0755, less the
// umask, so other users can read the tables.
//
// # Lease
//
// One load of a table runs at a time, whatever host or NATS server each
// uses: AcquireTable takes the table's lease in the target itself
// (<root>/.s3load/<table>/_lease/ or <prefix>/<table>/_lease.json) and the
// holder renews it well within its TTL (every TTL/3, say). A lease not
// renewed for its TTL is stale and another load may take it over. The same
// job and load may always take it again (a restarted or standby
// coordinator); the previous holder's next Renew then fails with
// ErrLeaseLost. Every change is a compare-and-swap, so two takers never both
// win: locally the lease is a sequence of generation files, each created
// with O_EXCL, and whoever creates generation n+1 first wins; on S3 each
// change is a PUT with If-None-Match: * or If-Match: <etag>.
//
// Staleness is judged by the renewal time the holder wrote, against the
// reader's clock, so hosts' clocks must agree to well within the TTL: a
// holder whose clock is d ahead keeps its lease d longer, one d behind loses
// it d sooner.
//
// # Clean-up and disk needs
//
// A table needs room for its committed load and the load in progress: about
// twice the table while it loads. Sweep, called under the lease when a
// table's load starts, removes the table's other loads, so parts of failed or
// abandoned loads hold no space past that. Commit removes the load the table
// pointed to before and, when the committing load holds the table's lease,
// everything Sweep would; without the lease it leaves other loads alone, as
// they may be in progress.
//
// An S3 target spools each part on the worker's temporary disk until it is
// uploaded (WithTemp caps that space): a worker needs room for the parts it
// writes at once.
package target
