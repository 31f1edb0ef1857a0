package s3store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// SetMaxKeys sets the ListObjectsV2 page size, to exercise pagination with
// few objects.
func SetMaxKeys(s *Store, n int32) { s.maxKeys = n }

// SetPartSize sets Put's multipart threshold and part size.
func SetPartSize(s *Store, n int64) { s.partSize = n }

// NewNoRetry is New with the SDK's retries off, so error tests see the
// first answer at once instead of backing off for seconds.
func NewNoRetry(ctx context.Context, cfg Config) (*Store, error) {
	return newStore(ctx, cfg, func(o *s3.Options) { o.Retryer = aws.NopRetryer{} })
}

// NewStallTimeout is NewNoRetry with the load's HTTP client given a short
// read inactivity timeout.
func NewStallTimeout(ctx context.Context, cfg Config, d time.Duration) (*Store, error) {
	return newStore(ctx, cfg, func(o *s3.Options) {
		o.Retryer = aws.NopRetryer{}
		o.HTTPClient = loadHTTPClient(d)
	})
}

// LoadReadTimeout is the read inactivity timeout of the client a Store
// built by New loads with, read from the client itself.
func LoadReadTimeout(s *Store) time.Duration {
	c, ok := s.client.Options().HTTPClient.(*awshttp.BuildableClient)
	if !ok {
		return 0
	}
	d, _ := c.GetReadTimeout()
	return d
}

// ReadTimeout is the load's read inactivity timeout.
const ReadTimeout = readTimeout

// Classify runs the classifier as the client's middleware and then a
// caller (List, Get...) do, on an error built by a test.
func Classify(err error, op, bucket, key, accessKeyID, region string) error {
	return classify(classifyRequest(err, request{
		op: op, bucket: bucket, key: key, accessKeyID: accessKeyID, region: region, endpoint: "https://store.example",
	}))
}

// NoCredentialsError is what the store's credentials provider returns
// when the chain never found any.
func NoCredentialsError(err error) error { return &credentialsError{err: err} }

// MaxAttempts is how often the load's client tries one request.
const MaxAttempts = maxAttempts

// NewQuickRetry is New with the load's retry policy but a millisecond
// between attempts, so retry tests take no time.
func NewQuickRetry(ctx context.Context, cfg Config) (*Store, error) {
	return newStore(ctx, cfg, func(o *s3.Options) {
		o.Retryer = patientRetryer(func(so *retry.StandardOptions) {
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		})
	})
}
