package s3store_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/s3load/s3load/internal/s3store"
	"github.com/s3load/s3load/internal/testenv"
)

// apiErr is an error as the SDK returns it for an HTTP answer.
func apiErr(status int, code string) error {
	return &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
			Err:      &smithy.GenericAPIError{Code: code, Message: "m"},
		},
	}
}

func TestMetricsRequestOutcome(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"success", nil, s3store.OutcomeOK},
		{"503 SlowDown", apiErr(503, "SlowDown"), s3store.OutcomeThrottled},
		{"429", apiErr(429, "TooManyRequests"), s3store.OutcomeThrottled},
		{"429 without a code", apiErr(429, ""), s3store.OutcomeThrottled},
		{"400 Throttling", apiErr(400, "Throttling"), s3store.OutcomeThrottled},
		{"503 ServiceUnavailable", apiErr(503, "ServiceUnavailable"), s3store.OutcomeServerError},
		{"500 InternalError", apiErr(500, "InternalError"), s3store.OutcomeServerError},
		{"404 NoSuchKey", apiErr(404, "NoSuchKey"), s3store.OutcomeClientError},
		{"403 AccessDenied", apiErr(403, "AccessDenied"), s3store.OutcomeClientError},
		{"412 PreconditionFailed", apiErr(412, "PreconditionFailed"), s3store.OutcomeClientError},
		{"wrapped SlowDown", fmt.Errorf("get: %w", apiErr(503, "SlowDown")), s3store.OutcomeThrottled},
		{"connection refused", errors.New("dial tcp: connection refused"), s3store.OutcomeNetwork},
		{"canceled", fmt.Errorf("op: %w", context.Canceled), s3store.OutcomeCanceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := s3store.RequestOutcome(tc.err); got != tc.want {
				t.Errorf("RequestOutcome(%v) = %q, want %q", tc.err, got, tc.want)
			}
		})
	}
}

// countingObserver counts attempts by operation and outcome.
type countingObserver struct {
	mu sync.Mutex
	n  map[[2]string]int
}

func (c *countingObserver) S3Request(op, outcome string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[[2]string]int{}
	}
	c.n[[2]string{op, outcome}]++
}

func (c *countingObserver) get(op, outcome string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[[2]string{op, outcome}]
}

// The observer sees every attempt, the ones the SDK retried included:
// two throttled GETs then the one that succeeds, and a 404 as a client
// error.
func TestMetricsRequestObserverSeesEachAttempt(t *testing.T) {
	srv := testenv.Versity(t)
	srv.CreateBucket(t, srcBucket)
	srv.Put(t, srcBucket, "a/obj.csv", []byte("x\n1\n"))
	proxy := testenv.NewProxy(t, srv.Endpoint)
	obs := &countingObserver{}
	cfg := srv.Config()
	cfg.Endpoint, cfg.Observer = proxy.Endpoint, obs
	st, err := s3store.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	proxy.Fail(1, http.StatusServiceUnavailable, "SlowDown", testenv.IsGet("obj.csv"))
	proxy.Fail(1, http.StatusTooManyRequests, "TooManyRequests", testenv.IsGet("obj.csv"))
	if _, err := st.Get(context.Background(), srcBucket, "a/obj.csv"); err != nil {
		t.Fatalf("Get: %v", err)
	}
	if _, err := st.Get(context.Background(), srcBucket, "a/missing.csv"); err == nil {
		t.Fatal("Get of a missing object succeeded")
	}
	for _, want := range []struct {
		outcome string
		n       int
	}{{s3store.OutcomeThrottled, 2}, {s3store.OutcomeOK, 1}, {s3store.OutcomeClientError, 1}} {
		if got := obs.get("GetObject", want.outcome); got != want.n {
			t.Errorf("GetObject %s: %d attempts, want %d (all: %v)", want.outcome, got, want.n, obs.n)
		}
	}
}
