package lakecheck

import (
	"context"
	"fmt"
	"os"
	"strings"
)

// Opener reads a whole file by its location as written in Iceberg metadata
// ("file:///...", an absolute path, or "s3://bucket/key").
type Opener func(ctx context.Context, location string) ([]byte, error)

// LocalOpener reads file:// locations and absolute paths from the local
// file system. A missing file's error wraps fs.ErrNotExist.
func LocalOpener() Opener {
	return func(_ context.Context, location string) ([]byte, error) {
		path, ok := localPath(location)
		if !ok {
			return nil, fmt.Errorf("opening %s: %w", location, ErrUnsupportedLocation)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading local file: %w", err)
		}
		return b, nil
	}
}

// localPath turns "file:///a/b", "file:/a/b" or "/a/b" into "/a/b".
func localPath(location string) (string, bool) {
	switch {
	case strings.HasPrefix(location, "file://"):
		p := strings.TrimPrefix(location, "file://")
		return p, strings.HasPrefix(p, "/")
	case strings.HasPrefix(location, "file:"):
		p := strings.TrimPrefix(location, "file:")
		return p, strings.HasPrefix(p, "/")
	case strings.HasPrefix(location, "/"):
		return location, true
	}
	return "", false
}

// S3Opener reads s3:// (and the Hadoop spellings s3a://, s3n://) locations
// through get, so that this package needs no S3 client of its own.
func S3Opener(get func(ctx context.Context, bucket, key string) ([]byte, error)) Opener {
	return func(ctx context.Context, location string) ([]byte, error) {
		bucket, key, ok := splitS3(location)
		if !ok {
			return nil, fmt.Errorf("opening %s: %w", location, ErrUnsupportedLocation)
		}
		b, err := get(ctx, bucket, key)
		if err != nil {
			return nil, fmt.Errorf("getting s3 object: %w", err)
		}
		return b, nil
	}
}

// splitS3 splits "s3://bucket/key" into its bucket and key.
func splitS3(location string) (bucket, key string, ok bool) {
	for _, scheme := range []string{"s3://", "s3a://", "s3n://"} {
		if rest, found := strings.CutPrefix(location, scheme); found {
			bucket, key, ok = strings.Cut(rest, "/")
			return bucket, key, ok && bucket != "" && key != ""
		}
	}
	return "", "", false
}
