package target

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"

	"github.com/aws/smithy-go"

	"github.com/s3load/s3load/internal/s3store"
)

// checkPrefix names the probe objects Check writes and removes.
const checkPrefix = ".s3load-check-"

// Check writes and removes a probe in the target, so a start-up finds a
// full disk (ErrNoSpace) or a target that refuses writes (ErrNotWritable)
// before any load begins. On S3 it also makes sure the store honours
// conditional writes (ErrNoConditionalWrites), which the table lease needs.
func (t *Target) Check(ctx context.Context) error {
	if t.s3 != nil {
		return t.s3.check(ctx)
	}
	return t.local.check()
}

func (l *localFS) check() error {
	if err := os.MkdirAll(l.root, dirMode); err != nil {
		return localErr("checking target", l.root, err)
	}
	probe := filepath.Join(l.root, checkPrefix+randomSuffix())
	f, err := l.createFile(probe)
	if err != nil {
		return localErr("checking target", l.root, err)
	}
	_, err = f.Write([]byte("s3load\n"))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if rerr := os.Remove(probe); err == nil {
		err = rerr
	}
	if err != nil {
		return localErr("checking target", l.root, err)
	}
	return nil
}

func (s *s3Target) check(ctx context.Context) (err error) {
	key := path.Join(s.prefix, checkPrefix+newToken())
	where := s.url(key)
	if _, err := s.store.PutIfAbsent(ctx, s.bucket, key, []byte("s3load\n")); err != nil {
		if notImplemented(err) {
			return fmt.Errorf("checking target: %w: PutObject with If-None-Match on %s is not implemented (%w); "+
				"table leases need it: use a store that supports conditional writes", ErrNoConditionalWrites, where, err)
		}
		return storeErr("checking target", where, err)
	}
	defer func() {
		if derr := s.store.Delete(ctx, s.bucket, key); derr != nil && err == nil {
			err = storeErr("checking target: removing the probe", where, derr)
		}
	}()
	_, err = s.store.PutIfAbsent(ctx, s.bucket, key, []byte("s3load again\n"))
	switch {
	case errors.Is(err, s3store.ErrPreconditionFailed):
		return nil
	case err == nil:
		return fmt.Errorf("checking target: %w: a second PutObject with If-None-Match: * on %s succeeded; "+
			"table leases need it refused: use a store that supports conditional writes", ErrNoConditionalWrites, where)
	default:
		return storeErr("checking target", where, err)
	}
}

func notImplemented(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "NotImplemented"
}
