package target

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/s3store"
	"github.com/s3load/s3load/internal/tempspace"
	"github.com/s3load/s3load/messages"
)

type s3Target struct {
	store       ObjectStore
	bucket      string
	prefix      string
	temp        *tempspace.Budget
	commitRetry retryPolicy
	layout      Layout
}

func (s *s3Target) tableKey(table string, rel ...string) string {
	return s.layout.s3TableKey(s.prefix, table, rel...)
}

func (s *s3Target) url(key string) string { return "s3://" + s.bucket + "/" + key }

// tempDirName names the spool's directory in errors.
const tempDirName = "the worker's temporary directory"

// createPart spools the part to a local temporary file: an S3 PUT needs its
// size up front, and a part must never be visible half written.
func (s *s3Target) createPart(_ context.Context, table, load string) (Part, error) {
	f, err := s.temp.Create("s3load-part-*")
	if err != nil {
		return nil, localErr("creating spool file", tempDirName, err)
	}
	return &s3Part{s: s, f: f, dir: s.tableKey(table, load)}, nil
}

type s3Part struct {
	s   *s3Target
	f   *tempspace.File
	dir string
}

func (p *s3Part) ReadAt(b []byte, off int64) (int, error) { return p.f.ReadAt(b, off) }

// Write fails with a *tempspace.FullError over the spool's budget.
func (p *s3Part) Write(b []byte) (int, error) {
	n, err := p.f.Write(b)
	if err != nil && !errors.Is(err, tempspace.ErrFull) {
		err = localErr("spooling part", tempDirName, err)
	}
	return n, err
}

func (p *s3Part) Commit(ctx context.Context, name string) (int64, error) {
	defer p.Abort()
	if err := checkName("part", name); err != nil {
		return 0, fmt.Errorf("uploading part: %w", err)
	}
	if _, err := p.f.Seek(0, 0); err != nil {
		return 0, fmt.Errorf("rewinding spool file: %w", err)
	}
	key := path.Join(p.dir, name)
	if err := p.s.store.Put(ctx, p.s.bucket, key, p.f, p.f.Size()); err != nil {
		return 0, storeErr("uploading part", p.s.url(key), err)
	}
	return p.f.Size(), nil
}

func (p *s3Part) Abort() { _ = p.f.Remove() }

// commit verifies the staged parts, removes strays from the load's prefix
// and PUTs the manifest, retrying transient store errors within the commit
// retry policy. It then removes the previous commit's load and, when this
// load holds the table's lease, every other load as Sweep would.
func (s *s3Target) commit(ctx context.Context, req coordinator.CommitRequest, m messages.Manifest, leased bool) error {
	r := s.commitRetry.start(s.url(s.tableKey(req.Table)))
	manifestKey := s.tableKey(req.Table, ManifestName)
	var prev string
	err := r.do(ctx, "reading the previous manifest", func() error {
		data, err := s.store.Get(ctx, s.bucket, manifestKey)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		pm, err := messages.Unmarshal[messages.Manifest](data)
		if err != nil {
			return fmt.Errorf("decoding %s: %w", s.url(manifestKey), err)
		}
		prev = pm.LoadID
		return nil
	})
	if err != nil {
		return err
	}
	loadPrefix := s.tableKey(req.Table, req.LoadID) + "/"
	var objects []messages.Source
	if err := r.do(ctx, "listing staged parts", func() (err error) {
		objects, err = s.store.ListKeys(ctx, s.bucket, loadPrefix)
		return err
	}); err != nil {
		return err
	}
	sizes := make(map[string]int64, len(objects))
	for _, o := range objects {
		sizes[o.Key] = o.Size
	}
	parts := make([]PartSize, len(m.Parts))
	for i, p := range m.Parts {
		parts[i] = PartSize{Path: p.Path, Bytes: p.Bytes}
	}
	keep, problems := partProblems(parts, sizes, func(path string) string { return s.tableKey(req.Table, path) })
	if len(problems) > 0 {
		return &PartsError{Table: req.Table, Load: req.LoadID, Parts: problems}
	}
	for _, o := range objects {
		if keep[o.Key] {
			continue
		}
		if err := r.do(ctx, "removing stray "+s.url(o.Key), func() error {
			return s.store.Delete(ctx, s.bucket, o.Key)
		}); err != nil {
			return err
		}
	}
	data, err := messages.Marshal(m)
	if err != nil {
		return fmt.Errorf("encoding manifest: %w", err)
	}
	// The one PUT that commits: until it lands readers follow the previous
	// manifest, whose parts are still in place.
	if err := r.do(ctx, "writing "+s.url(manifestKey), func() error {
		err := s.store.Put(ctx, s.bucket, manifestKey, bytes.NewReader(data), int64(len(data)))
		if err == nil || !s3store.IsTransient(err) {
			return err
		}
		// The outcome is unknown (a lost reply, a timeout): the manifest
		// may have landed. If it did, putting it again would be harmless,
		// but reading it back ends a commit the store keeps failing.
		if s.manifestLanded(ctx, manifestKey, m) {
			return nil
		}
		return err
	}); err != nil {
		return err
	}
	// Failing to remove costs space only, until Sweep at the table's next
	// load, so errors are left for Sweep to report.
	_ = s.removeLoads(ctx, req.Table, func(load string) bool {
		return load != req.LoadID && (leased || load == prev)
	})
	return nil
}

// manifestLanded reports whether the table's manifest is m: this load's,
// written at this commit.
func (s *s3Target) manifestLanded(ctx context.Context, key string, m messages.Manifest) bool {
	data, err := s.store.Get(ctx, s.bucket, key)
	if err != nil {
		return false
	}
	got, err := messages.Unmarshal[messages.Manifest](data)
	return err == nil && got.LoadID == m.LoadID && got.CommittedAt.Equal(m.CommittedAt)
}

// removeLoads deletes every object of the table's load prefixes for which
// remove is true, never s3load's own keys beside them (_manifest.json,
// _lease.json), and returns what failed.
func (s *s3Target) removeLoads(ctx context.Context, table string, remove func(load string) bool) error {
	tablePrefix := s.tableKey(table) + "/"
	objects, err := s.store.ListKeys(ctx, s.bucket, tablePrefix)
	if err != nil {
		return fmt.Errorf("listing loads of %s: %w", table, err)
	}
	var errs []error
	for _, o := range objects {
		load, _, isLoad := strings.Cut(strings.TrimPrefix(o.Key, tablePrefix), "/")
		if !isLoad || strings.HasPrefix(load, "_") || !remove(load) {
			continue
		}
		if err := s.store.Delete(ctx, s.bucket, o.Key); err != nil {
			errs = append(errs, storeErr("removing "+s.url(o.Key), s.url(tablePrefix), err))
		}
	}
	return errors.Join(errs...)
}
