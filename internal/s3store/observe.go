package s3store

import (
	"context"
	"errors"
	"net/http"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// RequestObserver is told of every attempt of every request the load's
// client makes, retries included, so that throttling the SDK rides out
// still shows. It gets the operation ("GetObject") and an outcome (see
// RequestOutcome), never a bucket, key or credential.
type RequestObserver interface {
	S3Request(operation, outcome string)
}

// Outcomes of a request attempt.
const (
	OutcomeOK          = "ok"
	OutcomeThrottled   = "throttled"    // 503 SlowDown, 429, or a throttling error code
	OutcomeClientError = "client_error" // any other 4xx (404 included)
	OutcomeServerError = "server_error" // any other 5xx
	OutcomeNetwork     = "network_error"
	OutcomeCanceled    = "canceled"
)

// throttleCodes are error codes S3 and S3-compatible stores throttle with.
var throttleCodes = map[string]bool{
	"SlowDown": true, "Throttling": true, "ThrottlingException": true,
	"RequestLimitExceeded": true, "TooManyRequests": true, "RequestThrottled": true,
}

// RequestOutcome classifies one attempt's error (nil: ok).
func RequestOutcome(err error) string {
	if err == nil {
		return OutcomeOK
	}
	status, code := statusCode(err), errorCode(err)
	switch {
	case status == http.StatusTooManyRequests || throttleCodes[code]:
		return OutcomeThrottled
	case status >= 500:
		return OutcomeServerError
	case status >= 400:
		return OutcomeClientError
	case status >= 200 && status < 400:
		// An answer the SDK could not use (a 304, a body it failed to
		// parse): the store answered, the client did not like it.
		return OutcomeClientError
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return OutcomeCanceled
	}
	return OutcomeNetwork
}

// observeRequests adds the middleware that tells obs of each attempt. It
// sits last in the finalize step, inside the retry loop and after
// signing, where each attempt passes once, and sees the error the
// deserializer made of the answer (status and S3 code).
func observeRequests(obs RequestObserver) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("s3store.observe",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
				middleware.FinalizeOutput, middleware.Metadata, error,
			) {
				out, md, err := next.HandleFinalize(ctx, in)
				obs.S3Request(awsmiddleware.GetOperationName(ctx), RequestOutcome(err))
				return out, md, err
			}), middleware.After)
	}
}
