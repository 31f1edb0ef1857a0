package s3store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/s3load/s3load/messages"
)

// Object is one listed source object, read only as the version it was
// listed as: every request carries If-Match with the listed ETag, so a
// file overwritten after listing fails with ErrChanged instead of mixing
// versions.
type Object struct {
	client *s3.Client
	src    messages.Source
}

// Object returns src pinned to its listed ETag. It makes no request.
func (s *Store) Object(src messages.Source) *Object {
	return &Object{client: s.client, src: src}
}

// Name is the object's s3:// URL.
func (o *Object) Name() string { return o.src.String() }

// Size is the listed size.
func (o *Object) Size() int64 { return o.src.Size }

func (o *Object) input() *s3.GetObjectInput {
	return &s3.GetObjectInput{
		Bucket:  aws.String(o.src.Bucket),
		Key:     aws.String(o.src.Key),
		IfMatch: aws.String(`"` + o.src.ETag + `"`),
	}
}

// Open streams the whole object. The body fails with ErrTruncated if it
// ends before Size bytes.
func (o *Object) Open(ctx context.Context) (io.ReadCloser, error) {
	out, err := o.client.GetObject(ctx, o.input())
	if err != nil {
		return nil, fmt.Errorf("getting %s: %w", o.Name(), readErr(err))
	}
	return &body{rc: out.Body, name: o.Name(), want: o.src.Size}, nil
}

// OpenAt streams the object from off to its end with one ranged
// GetObject, pinned like Open. A reader that stops early closes the body
// and costs its connection, not a read of the rest.
func (o *Object) OpenAt(ctx context.Context, off int64) (io.ReadCloser, error) {
	if off <= 0 {
		return o.Open(ctx)
	}
	if off >= o.src.Size {
		return io.NopCloser(strings.NewReader("")), nil
	}
	in := o.input()
	in.Range = aws.String(fmt.Sprintf("bytes=%d-", off))
	out, err := o.client.GetObject(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("getting %s from %d: %w", o.Name(), off, readErr(err))
	}
	if err := checkRange(out.ContentRange, off); err != nil {
		_ = out.Body.Close()
		return nil, fmt.Errorf("getting %s from %d: %w", o.Name(), off, err)
	}
	return &body{rc: out.Body, name: o.Name(), want: o.src.Size - off}, nil
}

// ReadAt reads len(p) bytes at off with one ranged GetObject, with
// io.ReaderAt's contract: fewer bytes only at the end of the object, with
// io.EOF. A response shorter than the range asked for is ErrTruncated.
func (o *Object) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("reading %s at %d: negative offset", o.Name(), off)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if off >= o.src.Size {
		return 0, io.EOF
	}
	want := int64(len(p))
	var eof error
	if rest := o.src.Size - off; want > rest {
		want, eof = rest, io.EOF
	}
	in := o.input()
	in.Range = aws.String(fmt.Sprintf("bytes=%d-%d", off, off+want-1))
	out, err := o.client.GetObject(ctx, in)
	if err != nil {
		return 0, fmt.Errorf("getting %s at %d: %w", o.Name(), off, readErr(err))
	}
	defer closeBody(out.Body)
	if err := checkRange(out.ContentRange, off); err != nil {
		return 0, fmt.Errorf("getting %s at %d: %w", o.Name(), off, err)
	}
	n, err := io.ReadFull(out.Body, p[:want])
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("%w: %d of %d bytes", ErrTruncated, n, want)
		}
		return n, fmt.Errorf("reading %s at %d: %w", o.Name(), off, err)
	}
	return n, eof
}

// checkRange guards against a store that ignores Range and sends the
// object from its start, which would hand the caller the wrong bytes.
func checkRange(contentRange *string, off int64) error {
	if contentRange == nil {
		if off == 0 {
			return nil // the whole object from its start is still right
		}
		return errors.New("store ignored the Range header")
	}
	var start, end int64
	if _, err := fmt.Sscanf(*contentRange, "bytes %d-%d/", &start, &end); err != nil || start != off {
		return fmt.Errorf("unexpected Content-Range %q", *contentRange)
	}
	return nil
}

// body counts what it delivers so that a connection closed early is never
// mistaken for the end of the object.
type body struct {
	rc   io.ReadCloser
	name string
	want int64
	got  int64
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.got += int64(n)
	switch {
	case err == nil:
		return n, nil
	case errors.Is(err, io.EOF) && b.got >= b.want:
		return n, io.EOF
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return n, fmt.Errorf("reading %s: %w: %d of %d bytes", b.name, ErrTruncated, b.got, b.want)
	default:
		return n, fmt.Errorf("reading %s: %w", b.name, err)
	}
}

func (b *body) Close() error { return closeBody(b.rc) }

// closeBody reads a response body's last bytes before closing it: Go's HTTP
// client reuses a connection only when its body was read to EOF, and a
// reader that stops at the object's last byte (or a ranged read that takes
// exactly its range) has not seen EOF yet. Without this every small file
// costs a new TCP connection.
func closeBody(rc io.ReadCloser) error {
	_, _ = io.CopyN(io.Discard, rc, 4<<10)
	return rc.Close()
}
