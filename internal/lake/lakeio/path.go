package lakeio

import (
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"path/filepath"
	"strings"
)

// location is a parsed file name: a local path or an S3 bucket and key.
type location struct {
	local       string // absolute local path; "" on S3
	bucket, key string // S3
}

func (l location) isS3() bool { return l.bucket != "" }

// parse accepts file:///abs/path (file://localhost/abs/path too),
// /abs/path and s3://bucket/key (s3a:// alike). Relative paths are
// refused: they would depend on the process's working directory.
func parse(name string) (location, error) {
	scheme, rest, ok := strings.Cut(name, "://")
	if !ok {
		if !filepath.IsAbs(name) {
			return location{}, fmt.Errorf("parsing %q: %w: want an absolute path, file:// or s3:// URL", name, fs.ErrInvalid)
		}
		return location{local: filepath.Clean(name)}, nil
	}
	switch strings.ToLower(scheme) {
	case "s3", "s3a":
		bucket, key, _ := strings.Cut(rest, "/")
		if bucket == "" {
			return location{}, fmt.Errorf("parsing %q: %w: no bucket", name, fs.ErrInvalid)
		}
		return location{bucket: bucket, key: strings.TrimSuffix(key, "/")}, nil
	case "file":
		// Parsed as a URL, as iceberg-go's own LocalFS does, so both read a
		// percent-escaped name alike.
		u, err := url.Parse(name)
		if err != nil {
			return location{}, fmt.Errorf("parsing %q: %w: %w", name, fs.ErrInvalid, err)
		}
		if u.Host != "" && !strings.EqualFold(u.Host, "localhost") {
			return location{}, fmt.Errorf("parsing %q: %w: file URL names host %q", name, fs.ErrInvalid, u.Host)
		}
		if u.RawQuery != "" || u.Fragment != "" || !path.IsAbs(u.Path) {
			return location{}, fmt.Errorf("parsing %q: %w: want file:///absolute/path", name, fs.ErrInvalid)
		}
		return location{local: filepath.Clean(filepath.FromSlash(u.Path))}, nil
	}
	return location{}, fmt.Errorf("parsing %q: %w: scheme %q is neither file nor s3", name, fs.ErrInvalid, scheme)
}

// sameForm names path (a local path or an S3 key) in the form root was
// given in, so names handed back match the names asked about.
func sameForm(root string, l location, p string) string {
	scheme, _, ok := strings.Cut(root, "://")
	switch {
	case l.isS3():
		return scheme + "://" + l.bucket + "/" + p
	case ok:
		return (&url.URL{Scheme: "file", Path: filepath.ToSlash(p)}).String()
	}
	return p
}
