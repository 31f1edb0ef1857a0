package s3store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

const (
	// defaultPartSize is Put's multipart threshold and part size: parts
	// are buffered in memory so each can be retried, and 16 MiB keeps a
	// worker's footprint small while staying far above S3's 5 MiB minimum.
	defaultPartSize = 16 << 20
	// maxParts is S3's limit on parts per upload.
	maxParts = 10000
)

// Put writes size bytes of body to bucket/key, with the store's
// WriteSettings. Bodies larger than one part go up as a multipart upload:
// a part that fails for a passing reason is sent again on its own by the
// client's retryer (its buffer is seekable), and the upload is aborted if
// anything fails for good, so no partial object ever becomes visible.
func (s *Store) Put(ctx context.Context, bucket, key string, body io.Reader, size int64) error {
	name := "s3://" + bucket + "/" + key
	if size < 0 {
		return fmt.Errorf("putting %s: negative size %d", name, size)
	}
	partSize := s.partSize
	if size > partSize*maxParts {
		partSize = (size + maxParts - 1) / maxParts
	}
	if size <= partSize {
		buf, err := readExactly(body, size)
		if err != nil {
			return fmt.Errorf("putting %s: %w", name, err)
		}
		in := &s3.PutObjectInput{
			Bucket:        aws.String(bucket),
			Key:           aws.String(key),
			Body:          bytes.NewReader(buf),
			ContentLength: aws.Int64(size),
		}
		s.write.applyPut(in)
		_, err = s.client.PutObject(ctx, in)
		if err != nil {
			return fmt.Errorf("putting %s: %w", name, classify(err))
		}
		return nil
	}
	if err := s.putMultipart(ctx, bucket, key, body, size, partSize); err != nil {
		return fmt.Errorf("putting %s: %w", name, err)
	}
	return nil
}

// readExactly reads n bytes and checks that the body ends there: a body
// of another size than announced is a caller's bug that must not be
// stored silently.
func readExactly(r io.Reader, n int64) ([]byte, error) {
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("reading body: %w", err)
	}
	var extra [1]byte
	if m, _ := r.Read(extra[:]); m > 0 {
		return nil, fmt.Errorf("reading body: longer than the %d bytes announced", n)
	}
	return buf, nil
}

// putMultipart uploads parts one after another: each worker already
// uploads its own part files concurrently, and sequential parts keep one
// part buffer per upload.
func (s *Store) putMultipart(ctx context.Context, bucket, key string, body io.Reader, size, partSize int64) (err error) {
	in := &s3.CreateMultipartUploadInput{
		Bucket:            aws.String(bucket),
		Key:               aws.String(key),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	}
	s.write.applyCreate(in)
	created, err := s.client.CreateMultipartUpload(ctx, in)
	if err != nil {
		return fmt.Errorf("creating multipart upload: %w", classify(err))
	}
	defer func() {
		if err == nil {
			return
		}
		// Abort on a fresh context: the caller's may be what failed, and
		// an upload left behind keeps costing storage.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
		defer cancel()
		if _, aerr := s.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
			Bucket: aws.String(bucket), Key: aws.String(key), UploadId: created.UploadId,
		}); aerr != nil {
			err = errors.Join(err, fmt.Errorf("aborting multipart upload: %w", aerr))
		}
	}()
	buf := make([]byte, partSize)
	var parts []types.CompletedPart
	for num, left := int32(1), size; left > 0; num++ {
		n := min(left, partSize)
		if _, err := io.ReadFull(body, buf[:n]); err != nil {
			return fmt.Errorf("reading body for part %d: %w", num, err)
		}
		left -= n
		if left == 0 {
			var extra [1]byte
			if m, _ := body.Read(extra[:]); m > 0 {
				return fmt.Errorf("reading body: longer than the %d bytes announced", size)
			}
		}
		out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket:            aws.String(bucket),
			Key:               aws.String(key),
			UploadId:          created.UploadId,
			PartNumber:        aws.Int32(num),
			Body:              bytes.NewReader(buf[:n]),
			ContentLength:     aws.Int64(n),
			ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
		})
		if err != nil {
			return fmt.Errorf("uploading part %d: %w", num, classify(err))
		}
		parts = append(parts, types.CompletedPart{
			ETag:          out.ETag,
			PartNumber:    aws.Int32(num),
			ChecksumCRC32: out.ChecksumCRC32,
		})
	}
	_, err = s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(bucket),
		Key:             aws.String(key),
		UploadId:        created.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return fmt.Errorf("completing multipart upload: %w", classify(err))
	}
	return nil
}

// Get returns a small object whole. A missing key is fs.ErrNotExist.
func (s *Store) Get(ctx context.Context, bucket, key string) ([]byte, error) {
	name := "s3://" + bucket + "/" + key
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("getting %s: %w", name, classify(err))
	}
	defer out.Body.Close()
	r := io.Reader(out.Body)
	if out.ContentLength != nil {
		r = &body{rc: out.Body, name: name, want: *out.ContentLength}
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("getting %s: %w", name, err)
	}
	return data, nil
}

// Delete removes bucket/key; a key already gone is not an error.
func (s *Store) Delete(ctx context.Context, bucket, key string) error {
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("deleting s3://%s/%s: %w", bucket, key, classify(err))
	}
	return nil
}
