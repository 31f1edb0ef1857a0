package s3store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

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
func (s *Store) GetWithETag(ctx context.Context, bucket, key string) ([]byte, string, error) {
	name := "s3://" + bucket + "/" + key
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, "", fmt.Errorf("getting %s: %w", name, classify(err))
	}
	defer closeBody(out.Body)
	r := io.Reader(out.Body)
	if out.ContentLength != nil {
		r = &body{rc: out.Body, name: name, want: *out.ContentLength}
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, "", fmt.Errorf("getting %s: %w", name, err)
	}
	return data, trimETag(out.ETag), nil
}

func trimETag(etag *string) string {
	return strings.Trim(aws.ToString(etag), `"`)
}
