package s3store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

var (
	// ErrChanged: a listed object no longer has the ETag it was listed with
	// (412 on If-Match), or is gone (404). Retrying cannot help; the next
	// load picks up the new version.
	ErrChanged = errors.New("object changed since it was listed")
	// ErrThrottled: the store asked us to slow down (503 SlowDown, 429, or
	// another throttling code) even after the SDK's own backoff.
	ErrThrottled = errors.New("throttled by the store")
	// ErrTruncated: a body ended before the bytes it promised.
	ErrTruncated = errors.New("body truncated")
)

// statusCode is the HTTP status of an SDK error, or 0.
func statusCode(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// errorCode is the S3 error code of an SDK error, or "".
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

var throttles = retry.IsErrorThrottles(retry.DefaultThrottles)

func isThrottle(err error) bool {
	switch statusCode(err) {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return true
	}
	return throttles.IsErrorThrottle(err).Bool()
}

func isNotFound(err error) bool {
	switch errorCode(err) {
	case "NoSuchKey", "NotFound":
		return true
	}
	return statusCode(err) == http.StatusNotFound && errorCode(err) != "NoSuchBucket"
}

// readErr classifies an error of a request about a listed source object:
// a failed precondition or a vanished key means the object changed.
func readErr(err error) error {
	switch {
	case errorCode(err) == "PreconditionFailed" || statusCode(err) == http.StatusPreconditionFailed:
		return fmt.Errorf("%w: %w", ErrChanged, err)
	case isNotFound(err):
		return fmt.Errorf("%w: %w", ErrChanged, err)
	}
	return classify(err)
}

// classify marks throttling and missing keys so callers can branch on them
// with errors.Is; anything else is returned unchanged.
func classify(err error) error {
	switch {
	case isThrottle(err):
		return fmt.Errorf("%w: %w", ErrThrottled, err)
	case isNotFound(err):
		// Mirrors a missing local file, so a target's caller can treat a
		// missing manifest on S3 and on disk alike.
		return fmt.Errorf("%w: %w", fs.ErrNotExist, err)
	}
	return err
}

var retryables = retry.IsErrorRetryables(retry.DefaultRetryables)

// IsTransient reports whether err may go away if the operation is tried
// again later: throttling, 5xx, dropped connections, timeouts, truncated
// bodies. Denied access, missing buckets, a changed object or a canceled
// context are not transient.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	switch {
	case errors.Is(err, ErrChanged), errors.Is(err, context.Canceled):
		return false
	case errors.Is(err, ErrThrottled), errors.Is(err, ErrTruncated),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, context.DeadlineExceeded):
		return true
	case isThrottle(err), statusCode(err) >= 500:
		return true
	}
	// net.Error and the SDK's read timeout, which has only Timeout.
	var te interface{ Timeout() bool }
	if errors.As(err, &te) && te.Timeout() {
		return true
	}
	if statusCode(err) != 0 || errorCode(err) != "" {
		// The store answered with a definite error: only the SDK's list of
		// retryable codes (RequestTimeout...) may pass.
		return retryables.IsErrorRetryable(err).Bool()
	}
	// No answer at all: connection refused or reset, DNS, TLS...
	return retryables.IsErrorRetryable(err).Bool() || isConnErr(err)
}

func isConnErr(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) || errors.Is(err, io.EOF)
}
