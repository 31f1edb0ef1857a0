package s3store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// ErrPreconditionFailed: a conditional write lost to another writer. The
// key already existed (PutIfAbsent), or no longer had the ETag the caller
// read (PutIfMatch). Read the object again and decide anew.
var ErrPreconditionFailed = errors.New("conditional write lost: the object was written by someone else")

// PutIfAbsent writes a small object only if key does not exist yet
// (If-None-Match: *) and returns its ETag. Stores that do not implement
// conditional writes answer 501 NotImplemented; some old ones silently
// ignore the header, which only a probe can tell (see the target's Check).
func (s *Store) PutIfAbsent(ctx context.Context, bucket, key string, data []byte) (string, error) {
	return s.putConditional(ctx, bucket, key, data, &s3.PutObjectInput{IfNoneMatch: aws.String("*")}, false)
}

// PutIfMatch replaces a small object only if it still has etag (If-Match)
// and returns the new ETag. A key that is gone lost the race too.
func (s *Store) PutIfMatch(ctx context.Context, bucket, key string, data []byte, etag string) (string, error) {
	return s.putConditional(ctx, bucket, key, data, &s3.PutObjectInput{IfMatch: aws.String(`"` + etag + `"`)}, true)
}

func (s *Store) putConditional(ctx context.Context, bucket, key string, data []byte, in *s3.PutObjectInput, ifMatch bool) (string, error) {
	in.Bucket, in.Key = aws.String(bucket), aws.String(key)
	in.Body, in.ContentLength = bytes.NewReader(data), aws.Int64(int64(len(data)))
	s.write.applyPut(in)
	out, err := s.client.PutObject(ctx, in)
	if err != nil {
		if lostCondition(err, ifMatch) {
			return "", fmt.Errorf("putting s3://%s/%s: %w: %w", bucket, key, ErrPreconditionFailed, err)
		}
		return "", fmt.Errorf("putting s3://%s/%s: %w", bucket, key, classify(err))
	}
	return trimETag(out.ETag), nil
}

// lostCondition: 412 is the answer to a failed If-None-Match or If-Match;
// 409 ConditionalRequestConflict to a conditional write racing another one
// (AWS); 404 NoSuchKey to If-Match on a key since deleted.
func lostCondition(err error, ifMatch bool) bool {
	code := ""
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	switch code {
	case "PreconditionFailed", "ConditionalRequestConflict":
		return true
	case "NoSuchKey":
		return ifMatch
	case "":
		var re interface{ HTTPStatusCode() int }
		if errors.As(err, &re) {
			switch re.HTTPStatusCode() {
			case http.StatusPreconditionFailed:
				return true
			case http.StatusNotFound:
				return ifMatch
			}
		}
	}
	return false
}

// GetWithETag returns a small object whole with its ETag, the version a
// later PutIfMatch must name. A missing key is fs.ErrNotExist.
//
// A body that fails to read is read again, a few times: versitygw (with
// sidecar metadata) stores a PUT's checksum and ETag before its body, so a
// GET racing a PUT of the same key can see the new ETag with the old body.
// The SDK then finds the body does not match the new checksum, read after
// both, and fails the read; taken as it is, the old body with the new ETag
// would let a PutIfMatch overwrite data its caller never saw. The opposite,
// an ETag older than the body, does get through, and is safe: a
// PutIfMatch naming it loses, and the caller reads again.
func (s *Store) GetWithETag(ctx context.Context, bucket, key string) ([]byte, string, error) {
	name := "s3://" + bucket + "/" + key
	var err error
	for attempt := range getAttempts {
		if attempt > 0 {
			t := time.NewTimer(time.Duration(attempt) * getRetryBackoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, "", fmt.Errorf("getting %s: %w (after: %w)", name, ctx.Err(), err)
			case <-t.C:
			}
		}
		var out *s3.GetObjectOutput
		out, err = s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			return nil, "", fmt.Errorf("getting %s: %w", name, classify(err))
		}
		var data []byte
		data, err = readBody(out, name)
		if err == nil {
			return data, trimETag(out.ETag), nil
		}
	}
	return nil, "", fmt.Errorf("getting %s: %w", name, err)
}

// GetWithETag reads a body that fails up to getAttempts times, waiting
// getRetryBackoff longer each time: a racing PUT is done within
// milliseconds.
const (
	getAttempts     = 5
	getRetryBackoff = 20 * time.Millisecond
)

func readBody(out *s3.GetObjectOutput, name string) ([]byte, error) {
	defer closeBody(out.Body)
	r := io.Reader(out.Body)
	if out.ContentLength != nil {
		r = &body{rc: out.Body, name: name, want: *out.ContentLength}
	}
	return io.ReadAll(r)
}

func trimETag(etag *string) string {
	return strings.Trim(aws.ToString(etag), `"`)
}
