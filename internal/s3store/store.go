package s3store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Retry policy: enough attempts to ride out a brief throttling burst or a
// dropped connection, bounded (at most about 15 s of backoff per request)
// so that a store in trouble fails the task and the queue's redelivery,
// with its own backoff, takes over.
const (
	maxAttempts = 5
	maxBackoff  = 10 * time.Second
	// readTimeout fails a connection that sends nothing for this long,
	// body reads included: without it (the SDK exempts S3) a dead peer
	// stalls a worker until TCP keepalive gives up minutes later.
	readTimeout = 2 * time.Minute
	// abortTimeout bounds the clean-up of a failed multipart upload.
	abortTimeout = 30 * time.Second
)

// Start-up checks (check.go) use a client of their own that gives up
// fast: a check must report a store that is down in seconds, where the
// load's client patiently retries.
const (
	// CheckTimeout bounds each start-up check, credential resolution
	// included.
	CheckTimeout = 5 * time.Second
	// checkAttempts lets a check survive one dropped connection.
	checkAttempts        = 2
	checkMaxBackoff      = 200 * time.Millisecond
	checkDialTimeout     = 2 * time.Second
	checkTLSTimeout      = 2 * time.Second
	checkResponseTimeout = 3 * time.Second
)

// Store is a client of one S3 endpoint. It is safe for concurrent use.
type Store struct {
	client *s3.Client
	// check is the client of the start-up checks: few attempts, short
	// timeouts. It shares the credentials (and their cache) with client.
	check *s3.Client
	creds *credentialsProvider
	// region is the configured region, for ErrWrongRegion; endpoint names
	// the store in messages.
	region, endpoint string
	// maxKeys is the ListObjectsV2 page size; 0 leaves it to the server
	// (1000 on AWS). Tests lower it to exercise pagination.
	maxKeys int32
	// partSize is Put's multipart threshold and part size.
	partSize int64
	// write is what every write carries.
	write WriteSettings
	// aws is the loaded AWS configuration (region, credential chain), for
	// other AWS clients of the same identity (a SigV4-signed catalog).
	aws aws.Config
}

// AWSConfig is the store's AWS configuration: its region and credentials.
func (s *Store) AWSConfig() aws.Config { return s.aws }

// String names the store without any credentials.
func (s *Store) String() string { return "s3store.Store" }

// New builds a client for cfg. It makes no requests: a bad endpoint or
// credentials show up on the first call, or in the checks of check.go.
func New(ctx context.Context, cfg Config) (*Store, error) {
	return newStore(ctx, cfg)
}

// newStore is New with extra options for the load's client, which tests
// use to shorten retries.
func newStore(ctx context.Context, cfg Config, optFns ...func(*s3.Options)) (*Store, error) {
	if (cfg.AccessKeyID == "") != (cfg.SecretAccessKey == "") {
		return nil, errors.New("configuring S3 client: access key id and secret access key must both be set or both be empty")
	}
	if err := cfg.Write.validate(); err != nil {
		return nil, fmt.Errorf("configuring S3 client: %w", err)
	}
	var opts []func(*config.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.AccessKeyID != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, "")))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("loading AWS configuration: %w", err)
	}
	if awsCfg.Region == "" && cfg.Endpoint != "" {
		// S3-compatible stores rarely care, but SigV4 needs some region.
		awsCfg.Region = "us-east-1"
	}
	s := &Store{region: awsCfg.Region, endpoint: cfg.Endpoint, partSize: defaultPartSize, write: cfg.Write, aws: awsCfg}
	if s.endpoint == "" {
		s.endpoint = fmt.Sprintf("the S3 endpoint of region %q", awsCfg.Region)
	}
	if awsCfg.Credentials != nil {
		s.creds = &credentialsProvider{inner: awsCfg.Credentials}
		awsCfg.Credentials = s.creds
	}
	common := func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
		// Ranged reads carry no whole-object checksum; without this the
		// SDK writes a line to stderr for every one of them.
		o.DisableLogOutputChecksumValidationSkipped = true
		o.APIOptions = append(o.APIOptions, s.classifyErrors, verifyChecksums)
	}
	patient := func(o *s3.Options) {
		o.Retryer = patientRetryer()
		if cfg.Observer != nil {
			o.APIOptions = append(o.APIOptions, observeRequests(cfg.Observer))
		}
		o.HTTPClient = loadHTTPClient(readTimeout)
	}
	hasty := func(o *s3.Options) {
		o.HTTPClient = awshttp.NewBuildableClient().
			WithDialerOptions(func(d *net.Dialer) { d.Timeout = checkDialTimeout }).
			WithTransportOptions(func(tr *http.Transport) {
				tr.TLSHandshakeTimeout = checkTLSTimeout
				tr.ResponseHeaderTimeout = checkResponseTimeout
			})
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = checkAttempts
			so.MaxBackoff = checkMaxBackoff
			so.RateLimiter = ratelimit.None
			so.Retryables = withNoRetry(so.Retryables)
		})
	}
	s.client = s3.NewFromConfig(awsCfg, append([]func(*s3.Options){common, patient}, optFns...)...)
	s.check = s3.NewFromConfig(awsCfg, common, hasty)
	return s, nil
}

// maxIdleConns bounds the connections kept open to the store between
// requests.
const maxIdleConns = 256

// loadHTTPClient is the load's HTTP client: a connection that sends
// nothing for idle fails (see readTimeout), and many connections stay
// open, because probes and batched small files keep dozens of requests in
// flight to one endpoint; the SDK's default keeps 10 idle connections per
// host and dials a new one (a TCP and TLS handshake) for the rest.
func loadHTTPClient(idle time.Duration) *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().WithReadTimeout(idle).WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConns, tr.MaxIdleConnsPerHost = maxIdleConns, maxIdleConns
	})
}

// patientRetryer is the load's retry policy; tests shorten its backoff
// with opts.
func patientRetryer(opts ...func(*retry.StandardOptions)) aws.Retryer {
	return retry.NewStandard(append([]func(*retry.StandardOptions){func(so *retry.StandardOptions) {
		so.MaxAttempts = maxAttempts
		so.MaxBackoff = maxBackoff
		// The default retry quota fails requests outright once many of
		// them are throttled at once, which is exactly when a fleet of
		// workers should back off and keep going instead.
		so.RateLimiter = ratelimit.None
		so.Retryables = withNoRetry(so.Retryables)
	}}, opts...)...)
}

// withNoRetry puts noRetry before the SDK's own rules.
func withNoRetry(rules []retry.IsErrorRetryable) []retry.IsErrorRetryable {
	return append([]retry.IsErrorRetryable{retry.IsErrorRetryableFunc(noRetry)}, rules...)
}

// IsPermanent reports whether err, from any of the store's calls, is a
// problem only a person can fix (see the package doc): the classifier of
// the coordinator's Lister port.
func (s *Store) IsPermanent(err error) bool { return IsPermanent(err) }
