package s3store

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// ReadTail returns the last n bytes of a target object (all of it when it
// is shorter) and the object's size, with one suffix-ranged GetObject: a
// Parquet footer and its length sit at the end, so one request usually
// reads a part's metadata without knowing its size first. A missing key is
// fs.ErrNotExist.
func (s *Store) ReadTail(ctx context.Context, bucket, key string, n int64) ([]byte, int64, error) {
	name := "s3://" + bucket + "/" + key
	if n <= 0 {
		return nil, 0, fmt.Errorf("reading the tail of %s: length %d, want at least 1", name, n)
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(bucket),
		Key:    aws.String(key),
		Range:  aws.String(fmt.Sprintf("bytes=-%d", n)),
	})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "InvalidRange" {
			// An empty object has no suffix to give (AWS answers 416).
			return nil, 0, nil
		}
		return nil, 0, fmt.Errorf("reading the tail of %s: %w", name, classify(err))
	}
	defer closeBody(out.Body)
	data, err := io.ReadAll(io.LimitReader(out.Body, n+1))
	if err != nil {
		return nil, 0, fmt.Errorf("reading the tail of %s: %w", name, err)
	}
	if int64(len(data)) > n {
		// More than asked for came back: the store ignored Range.
		return nil, 0, fmt.Errorf("reading the tail of %s: the store ignored the Range header", name)
	}
	size := int64(len(data))
	if out.ContentRange == nil && out.ContentLength != nil && *out.ContentLength != size {
		return nil, 0, fmt.Errorf("reading the tail of %s: %w: %d of %d bytes", name, ErrTruncated, size, *out.ContentLength)
	}
	if out.ContentRange != nil {
		var start, end int64
		if _, err := fmt.Sscanf(*out.ContentRange, "bytes %d-%d/%d", &start, &end, &size); err != nil || end+1 != size {
			return nil, 0, fmt.Errorf("reading the tail of %s: unexpected Content-Range %q", name, *out.ContentRange)
		}
		if got, want := int64(len(data)), end-start+1; got != want {
			return nil, 0, fmt.Errorf("reading the tail of %s: %w: %d of %d bytes", name, ErrTruncated, got, want)
		}
	}
	return data, size, nil
}
