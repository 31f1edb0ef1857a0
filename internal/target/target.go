// Package target owns where tables land and how they commit: the staging
// area each load writes its Parquet parts into, and the atomic switch that
// makes one load's parts the table.
//
// On a local path a table is a symbolic link, <root>/<table>, to the load
// directory <root>/.s3load/<table>/<load>/ holding the parts and
// _manifest.json; committing renames a new link over the old one, which is
// atomic, so a reader sees the previous load or the new one, never a mix.
//
// On S3, where nothing renames, parts go to <prefix>/<table>/<load>/ and the
// commit is one PUT of <prefix>/<table>/_manifest.json, whose paths are
// relative to <prefix>/<table>/: readers follow the manifest.
package target

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/messages"
)

// ManifestName is the manifest's file name in a table directory.
const ManifestName = "_manifest.json"

// Target is a file:// or s3:// destination for tables.
type Target struct {
	local *localFS
	s3    *s3Target
}

// ObjectStore is what an s3:// target needs of the S3 adapter.
type ObjectStore interface {
	Put(ctx context.Context, bucket, key string, body io.Reader, size int64) error
	Get(ctx context.Context, bucket, key string) ([]byte, error)
	Delete(ctx context.Context, bucket, key string) error
	ListKeys(ctx context.Context, bucket, prefix string) ([]messages.Source, error)
}

// Open parses rawURL. An s3:// target writes through store; a file:// one
// ignores it.
func Open(rawURL string, store ObjectStore) (*Target, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("parsing target %q: %w", rawURL, err)
	}
	switch u.Scheme {
	case "file":
		return &Target{local: &localFS{root: filepath.Clean(u.Path)}}, nil
	case "s3":
		if store == nil {
			return nil, fmt.Errorf("target %s: no S3 client configured", rawURL)
		}
		return &Target{s3: &s3Target{store: store, bucket: u.Host, prefix: strings.Trim(u.Path, "/")}}, nil
	default:
		return nil, fmt.Errorf("target %q: scheme must be file or s3", rawURL)
	}
}

// PartPath is the path, relative to the table's directory, of the part
// named name (messages.PartName or messages.BatchPartName) in load.
func (t *Target) PartPath(load, name string) string {
	if t.s3 != nil {
		return path.Join(load, name)
	}
	return name
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
	if t.s3 != nil {
		return t.s3.createPart(ctx, table, load)
	}
	return t.local.createPart(table, load)
}

// Commit verifies the load's parts against the records, removes anything
// else from the load's directory, writes the manifest and switches the table
// to this load.
func (t *Target) Commit(ctx context.Context, req coordinator.CommitRequest) (messages.Manifest, error) {
	m, err := buildManifest(req, t.PartPath)
	if err != nil {
		return m, err
	}
	if t.s3 != nil {
		return m, t.s3.commit(ctx, req, m)
	}
	return m, t.local.commit(req, m)
}

// ReadManifest returns the committed manifest of table.
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
