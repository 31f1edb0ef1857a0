package testenv

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3load/s3load/messages"
)

// CreateBucket creates bucket, failing the test if it cannot.
func (s *S3Server) CreateBucket(t testing.TB, bucket string) {
	t.Helper()
	if _, err := s.client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("creating bucket %s: %v", bucket, err)
	}
}

// Put writes data to bucket/key and returns the object's identity as a
// listing shows it. It uses PutObject's answer rather than listing, so
// the access log holds exactly one request per Put.
func (s *S3Server) Put(t testing.TB, bucket, key string, data []byte) messages.Source {
	t.Helper()
	out, err := s.client.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket:        aws.String(bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
	})
	if err != nil {
		t.Fatalf("putting s3://%s/%s: %v", bucket, key, err)
	}
	return messages.Source{
		Bucket: bucket,
		Key:    key,
		ETag:   strings.Trim(aws.ToString(out.ETag), `"`),
		Size:   int64(len(data)),
	}
}

// Delete removes bucket/key, failing the test if it cannot.
func (s *S3Server) Delete(t testing.TB, bucket, key string) {
	t.Helper()
	if _, err := s.client.DeleteObject(context.Background(), &s3.DeleteObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key),
	}); err != nil {
		t.Fatalf("deleting s3://%s/%s: %v", bucket, key, err)
	}
}
