package target

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/tempspace"
	"github.com/s3load/s3load/messages"
)

// ManifestName is the manifest's file name in a table directory.
const ManifestName = "_manifest.json"

// DefaultCommitRetry is how long an S3 commit retries transient store
// errors before it gives up.
const DefaultCommitRetry = 2 * time.Minute

// Target is a file:// or s3:// destination for tables.
type Target struct {
	local  *localFS
	s3     *s3Target
	layout Layout
	url    string
	// now is the clock leases are written and judged by; tests move it.
	now func() time.Time
}

// ObjectStore is what an s3:// target needs of the S3 adapter
// (s3store.Store). Errors follow s3store's: a missing key is
// fs.ErrNotExist, a lost conditional write s3store.ErrPreconditionFailed,
// and s3store.IsTransient tells what may be retried.
type ObjectStore interface {
	Put(ctx context.Context, bucket, key string, body io.Reader, size int64) error
	Get(ctx context.Context, bucket, key string) ([]byte, error)
	Delete(ctx context.Context, bucket, key string) error
	ListKeys(ctx context.Context, bucket, prefix string) ([]messages.Source, error)
	// PutIfAbsent and PutIfMatch are the conditional writes of the lease.
	PutIfAbsent(ctx context.Context, bucket, key string, data []byte) (etag string, err error)
	PutIfMatch(ctx context.Context, bucket, key string, data []byte, etag string) (string, error)
	GetWithETag(ctx context.Context, bucket, key string) (data []byte, etag string, err error)
	// ReadTail returns the last n bytes of an object and its size.
	ReadTail(ctx context.Context, bucket, key string, n int64) ([]byte, int64, error)
}

// Option configures Open.
type Option func(*options)

type options struct {
	layout      Layout
	temp        *tempspace.Budget
	commitRetry time.Duration
}

// WithTemp spools an S3 target's parts through b, so a worker's temporary
// disk stays under b's cap. The default is an unlimited budget in
// os.TempDir().
func WithTemp(b *tempspace.Budget) Option { return func(o *options) { o.temp = b } }

// WithCommitRetry bounds how long an S3 commit retries transient store
// errors (DefaultCommitRetry by default; 0 tries once).
func WithCommitRetry(d time.Duration) Option { return func(o *options) { o.commitRetry = d } }

// Open parses rawURL. An s3:// target writes through store; a file:// one
// ignores it.
func Open(rawURL string, store ObjectStore, opts ...Option) (*Target, error) {
	o := options{commitRetry: DefaultCommitRetry}
	for _, opt := range opts {
		opt(&o)
	}
	if o.temp == nil {
		o.temp = tempspace.New("", 0)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("parsing target %q: %w", rawURL, err)
	}
	switch u.Scheme {
	case "file":
		return &Target{local: &localFS{root: filepath.Clean(u.Path), layout: o.layout, openFile: os.OpenFile}, layout: o.layout, url: rawURL, now: time.Now}, nil
	case "s3":
		if store == nil {
			return nil, fmt.Errorf("target %s: no S3 client configured", rawURL)
		}
		return &Target{s3: &s3Target{
			store: store, bucket: u.Host, prefix: strings.Trim(u.Path, "/"),
			temp: o.temp, commitRetry: retryPolicy{max: o.commitRetry}, layout: o.layout,
		}, layout: o.layout, url: rawURL, now: time.Now}, nil
	default:
		return nil, fmt.Errorf("target %q: scheme must be file or s3", rawURL)
	}
}

// checkName refuses a table, load or part name that would step out of its
// directory or collide with s3load's own files ("_manifest.json", the
// lease), naming what is wrong.
func checkName(kind, name string) error {
	switch {
	case name == "", name == ".", name == "..":
		return fmt.Errorf("%s name %q is not usable", kind, name)
	case strings.ContainsAny(name, `/\`):
		return fmt.Errorf("%s name %q holds a path separator", kind, name)
	case kind != "table" && strings.HasPrefix(name, "_"):
		return fmt.Errorf("%s name %q starts with '_', which s3load reserves for its own files", kind, name)
	}
	return nil
}

func checkNames(table, load string) error {
	return errors.Join(checkName("table", table), checkName("load", load))
}

// PartPath is the path, relative to the table's directory, of the part
// named name (messages.PartName or messages.BatchPartName) in load.
func (t *Target) PartPath(load, name string) string {
	return t.layout.partPath(t.s3 != nil, load, name)
}

// TableLocation is the table's location in an Iceberg layout: the target
// URL followed by <namespace>/<table>.
func (t *Target) TableLocation(table string) string {
	return t.layout.TableLocation(strings.TrimRight(t.url, "/"), table)
}

// Part is one part file being written. Nothing is visible under the part's
// name until Commit returns.
type Part interface {
	io.Writer
	// ReadAt reads back what was written (a part is a local file until
	// it commits), so a copied file can be checked before it commits.
	io.ReaderAt
	// Commit makes the part durable under name and returns its size. The
	// name is given last because a batch's part is named for the files
	// that made it in.
	Commit(ctx context.Context, name string) (int64, error)
	// Abort discards what was written; safe after Commit.
	Abort()
}

// CreatePart starts writing a part in the load's staging area.
func (t *Target) CreatePart(ctx context.Context, table, load string) (Part, error) {
	if err := checkNames(table, load); err != nil {
		return nil, fmt.Errorf("creating part: %w", err)
	}
	if t.s3 != nil {
		return t.s3.createPart(ctx, table, load)
	}
	return t.local.createPart(table, load)
}

// CommitManifest verifies the load's parts against the records, removes anything
// else from the load's directory, writes the manifest and switches the table
// to this load. Parts missing or not as recorded fail it with a *PartsError
// listing all of them.
func (t *Target) CommitManifest(ctx context.Context, req coordinator.CommitRequest) (messages.Manifest, error) {
	if err := checkNames(req.Table, req.LoadID); err != nil {
		return messages.Manifest{}, fmt.Errorf("committing: %w", err)
	}
	m, err := buildManifest(req, t.PartPath)
	if err != nil {
		return m, err
	}
	if t.s3 != nil {
		return m, partsError(t.s3.commit(ctx, req, m, t.leasedBy(ctx, req.Table, req.LoadID)))
	}
	return m, partsError(t.local.commit(req, m, t.leasedBy(ctx, req.Table, req.LoadID)))
}

// ReadManifest returns the committed manifest of table. No committed
// manifest is an error wrapping fs.ErrNotExist.
func (t *Target) ReadManifest(ctx context.Context, table string) (messages.Manifest, error) {
	var data []byte
	var err error
	if t.s3 != nil {
		data, err = t.s3.store.Get(ctx, t.s3.bucket, t.s3.tableKey(table, ManifestName))
	} else {
		data, err = os.ReadFile(filepath.Join(t.local.root, table, ManifestName))
	}
	if err != nil {
		return messages.Manifest{}, fmt.Errorf("reading manifest of %s: %w", table, err)
	}
	return messages.Unmarshal[messages.Manifest](data)
}
