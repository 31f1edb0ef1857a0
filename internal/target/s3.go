package target

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/messages"
)

type s3Target struct {
	store  ObjectStore
	bucket string
	prefix string
}

func (s *s3Target) tableKey(table string, rel ...string) string {
	return path.Join(append([]string{s.prefix, table}, rel...)...)
}

// createPart spools the part to a local temporary file: an S3 PUT needs its
// size up front, and a part must never be visible half written.
func (s *s3Target) createPart(_ context.Context, table, load string) (Part, error) {
	f, err := os.CreateTemp("", "s3load-part-*")
	if err != nil {
		return nil, fmt.Errorf("creating spool file: %w", err)
	}
	return &s3Part{s: s, f: f, dir: s.tableKey(table, load)}, nil
}

type s3Part struct {
	s   *s3Target
	f   *os.File
	dir string
	n   int64
}

func (p *s3Part) ReadAt(b []byte, off int64) (int, error) { return p.f.ReadAt(b, off) }

func (p *s3Part) Write(b []byte) (int, error) {
	n, err := p.f.Write(b)
	p.n += int64(n)
	return n, err
}

func (p *s3Part) Commit(ctx context.Context, name string) (int64, error) {
	defer p.Abort()
	if _, err := p.f.Seek(0, 0); err != nil {
		return 0, fmt.Errorf("rewinding spool file: %w", err)
	}
	if err := p.s.store.Put(ctx, p.s.bucket, path.Join(p.dir, name), p.f, p.n); err != nil {
		return 0, fmt.Errorf("uploading part: %w", err)
	}
	return p.n, nil
}

func (p *s3Part) Abort() {
	_ = p.f.Close()
	_ = os.Remove(p.f.Name())
}

func (s *s3Target) commit(ctx context.Context, req coordinator.CommitRequest, m messages.Manifest) error {
	loadPrefix := s.tableKey(req.Table, req.LoadID) + "/"
	objects, err := s.store.ListKeys(ctx, s.bucket, loadPrefix)
	if err != nil {
		return fmt.Errorf("listing staged parts: %w", err)
	}
	sizes := map[string]int64{}
	for _, o := range objects {
		sizes[o.Key] = o.Size
	}
	keep := map[string]bool{}
	for _, p := range m.Parts {
		key := s.tableKey(req.Table, p.Path)
		size, ok := sizes[key]
		if !ok {
			return fmt.Errorf("verifying part %s: it is missing", key)
		}
		if size != p.Bytes {
			return fmt.Errorf("verifying part %s: %d bytes stored, %d recorded", key, size, p.Bytes)
		}
		keep[key] = true
	}
	for _, o := range objects {
		if !keep[o.Key] {
			if err := s.store.Delete(ctx, s.bucket, o.Key); err != nil {
				return fmt.Errorf("removing stray %s: %w", o.Key, err)
			}
		}
	}
	data, err := messages.Marshal(m)
	if err != nil {
		return fmt.Errorf("encoding manifest: %w", err)
	}
	// The one PUT that commits: until it lands readers follow the previous
	// manifest, whose parts are still in place.
	if err := s.store.Put(ctx, s.bucket, s.tableKey(req.Table, ManifestName), bytes.NewReader(data), int64(len(data))); err != nil {
		return fmt.Errorf("writing manifest: %w", err)
	}
	s.removeOldLoads(ctx, req.Table, req.LoadID)
	return nil
}

// removeOldLoads deletes parts of earlier loads. Best effort: leftovers cost
// space only, since the manifest does not name them.
func (s *s3Target) removeOldLoads(ctx context.Context, table, keep string) {
	tablePrefix := s.tableKey(table) + "/"
	objects, err := s.store.ListKeys(ctx, s.bucket, tablePrefix)
	if err != nil {
		return
	}
	for _, o := range objects {
		rel := strings.TrimPrefix(o.Key, tablePrefix)
		if rel == ManifestName || strings.HasPrefix(rel, keep+"/") {
			continue
		}
		_ = s.store.Delete(ctx, s.bucket, o.Key)
	}
}
