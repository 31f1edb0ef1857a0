package s3store

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	smithyhttp "github.com/aws/smithy-go/transport/http"

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

// The kinds below are wrapped in an *Error (a *RegionError for
// ErrWrongRegion) whose message says what is wrong and what to change.
var (
	// ErrAuth: the store does not accept the credentials: an unknown access
	// key id, a secret that does not match it, an expired or invalid
	// session token.
	ErrAuth = errors.New("credentials rejected by the store")
	// ErrAccessDenied: the credentials are valid but may not do this (403
	// AccessDenied, or a 403 with no more specific code).
	ErrAccessDenied = errors.New("access denied")
	// ErrNoSuchBucket: the bucket does not exist at this endpoint.
	ErrNoSuchBucket = errors.New("no such bucket")
	// ErrWrongRegion: the bucket is in another region than the one
	// configured; errors.As with a *RegionError tells which, when the store
	// said.
	ErrWrongRegion = errors.New("wrong region")
	// ErrTLS: the endpoint's certificate is not trusted or not valid for its
	// host name, or the TLS handshake failed.
	ErrTLS = errors.New("TLS failure")
	// ErrNoCredentials: no access key is configured and the AWS credential
	// chain (environment, shared files, web identity, SSO, instance or task
	// role) found none.
	ErrNoCredentials = errors.New("no AWS credentials")
	// ErrUnreachable: the endpoint cannot be reached: its host name does not
	// resolve, nothing listens on its port, or it does not answer. Unlike
	// the kinds above it may pass (a store restarting), so IsTransient
	// holds for it; a start-up check still reports it as fatal.
	ErrUnreachable = errors.New("endpoint unreachable")
)

// permanentKinds are the kinds that no retry can fix: the configuration
// or the store's set-up must change.
var permanentKinds = []error{ErrAuth, ErrAccessDenied, ErrNoSuchBucket, ErrWrongRegion, ErrTLS, ErrNoCredentials}

// IsPermanent reports whether err is one of the kinds that no retry can
// fix: ErrAuth, ErrAccessDenied, ErrNoSuchBucket, ErrWrongRegion, ErrTLS,
// ErrNoCredentials. Such an error is never IsTransient, ErrChanged or
// fs.ErrNotExist.
func IsPermanent(err error) bool {
	for _, k := range permanentKinds {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}

// Error is a store error of one of the kinds above. Error() is a complete
// sentence for a user; errors.Is matches Kind, and errors.As reaches the
// SDK's error (its request id, status...).
type Error struct {
	Kind error
	// Code is the store's error code ("SignatureDoesNotMatch"), "HTTP
	// 403" if it sent none, "" if it never answered.
	Code string
	msg  string
	err  error
}

func (e *Error) Error() string   { return e.msg }
func (e *Error) Unwrap() []error { return []error{e.Kind, e.err} }

// RegionError is ErrWrongRegion: the bucket is not in the configured
// region. Actual is "" when the store did not say where it is.
type RegionError struct {
	Bucket     string
	Configured string
	Actual     string
	Code       string // as Error.Code
	err        error
}

func (e *RegionError) Error() string {
	where := "s3://" + e.Bucket
	if e.Bucket == "" {
		where = "the bucket"
	}
	if e.Actual == "" {
		return fmt.Sprintf("%s is not in region %q (%s): set region to the bucket's region", where, e.Configured, e.Code)
	}
	return fmt.Sprintf("%s is in region %q, not %q (%s): set region to %q", where, e.Actual, e.Configured, e.Code, e.Actual)
}

func (e *RegionError) Unwrap() []error { return []error{ErrWrongRegion, e.err} }

// request is what the classifier knows of the request that failed, beyond
// the error: the client's middleware (see classifyErrors) fills it in.
type request struct {
	op          string // S3 operation: ListObjectsV2, GetObject...
	bucket, key string
	accessKeyID string // of the credentials used; "" if unknown
	region      string // configured
	endpoint    string // configured, for messages when the error names none
	// bodyRegion is the <Region> of an error body, which a 400
	// AuthorizationHeaderMalformed carries; the SDK drops it.
	bodyRegion string
}

// classifyRequest gives err its kind, once, where the SDK hands it over.
// Errors of no kind come back unchanged: readErr and classify still mark
// throttling, changed objects and missing keys.
func classifyRequest(err error, r request) error {
	if err == nil || isClassified(err) || errors.Is(err, context.Canceled) {
		return err
	}
	if k := permanentKind(err, r); k != nil {
		return k
	}
	if u := unreachableKind(err, r.endpoint); u != nil {
		return u
	}
	return err
}

func isClassified(err error) bool { return classified(err) != nil }

// classified is err's *Error or *RegionError, nil if it has none. Its
// message is complete, so callers hand it on without the SDK's
// "operation error S3: ..." wrapping around it.
func classified(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var re *RegionError
	if errors.As(err, &re) {
		return re
	}
	return nil
}

// Error codes by kind. S3 and the stores that mimic it answer these; a
// HEAD request has no body, so its code is made from the status
// ("Forbidden", "NotFound", "BadRequest", "MovedPermanently").
var (
	unknownKeyCodes = map[string]bool{
		"InvalidAccessKeyId":   true,
		"XAdminUserNotFound":   true, // versitygw, with a 404
		"InvalidClientTokenId": true,
	}
	signatureCodes = map[string]bool{
		"SignatureDoesNotMatch": true,
	}
	tokenCodes = map[string]bool{
		"ExpiredToken":          true,
		"ExpiredTokenException": true,
		"InvalidToken":          true,
		"TokenRefreshRequired":  true,
		"InvalidSecurity":       true,
	}
	deniedCodes = map[string]bool{
		"AccessDenied":      true,
		"AllAccessDisabled": true,
		"AccountProblem":    true,
		// A 403 to HEAD, which has no body; a 403 with no code at all
		// counts too (see codeOf).
		"Forbidden": true,
	}
)

func permanentKind(err error, r request) error {
	var ce *credentialsError
	if errors.As(err, &ce) {
		return noCredentials(strings.TrimPrefix(ce.err.Error(), "failed to refresh cached credentials, "), err)
	}
	if e := tlsKind(err, r.endpoint); e != nil {
		return e
	}
	status, code := statusCode(err), errorCode(err)
	if status == 0 && code == "" {
		return nil
	}
	if e := regionKind(err, r, status, code); e != nil {
		return e
	}
	shown := codeOf(status, code)
	key := "the access key"
	if r.accessKeyID != "" {
		key = fmt.Sprintf("the access key id %q", r.accessKeyID)
	}
	switch {
	case unknownKeyCodes[code]:
		return &Error{Kind: ErrAuth, Code: shown, err: err, msg: fmt.Sprintf(
			"%s is not known to the store (%s): check access_key_id", key, shown)}
	case signatureCodes[code]:
		return &Error{Kind: ErrAuth, Code: shown, err: err, msg: fmt.Sprintf(
			"the store rejected the signature made with %s: the secret does not match it (%s): check secret_access_key",
			key, shown)}
	case tokenCodes[code]:
		return &Error{Kind: ErrAuth, Code: shown, err: err, msg: fmt.Sprintf(
			"the session token of %s has expired or is not valid (%s): renew the temporary credentials, or set access_key_id and secret_access_key",
			key, shown)}
	case code == "NoSuchBucket", r.op == "HeadBucket" && status == http.StatusNotFound:
		return &Error{Kind: ErrNoSuchBucket, Code: shown, err: err, msg: fmt.Sprintf(
			"%s does not exist (%s): check the bucket name, endpoint and region", bucketName(r), shown)}
	case status == http.StatusForbidden && (deniedCodes[code] || shown != code):
		return &Error{Kind: ErrAccessDenied, Code: shown, err: err, msg: deniedMessage(r, key, shown)}
	}
	return nil
}

// codeOf is the store's error code for a message, or the HTTP status
// when it sent none.
func codeOf(status int, code string) string {
	if code == "" || code == "UnknownError" {
		return fmt.Sprintf("HTTP %d", status)
	}
	return code
}

// noCredentials is ErrNoCredentials; cause says what the chain found.
func noCredentials(cause string, err error) *Error {
	return &Error{Kind: ErrNoCredentials, err: err, msg: fmt.Sprintf(
		"no AWS credentials found (%s): set access_key_id and secret_access_key, "+
			"or give the AWS SDK's default chain credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "+
			"AWS_PROFILE, web identity, an instance or task role)", cause)}
}

func deniedMessage(r request, key, code string) string {
	what := r.op
	if what == "" {
		what = "do this"
	}
	where := ""
	if r.bucket != "" {
		where = " s3://" + r.bucket
		if r.key != "" {
			where += "/" + r.key
		}
	}
	fix := "use credentials that may " + what
	if perm := permissionOf[r.op]; perm != "" {
		fix = fmt.Sprintf("grant %s on bucket %q to these credentials, or use credentials that have it", perm, r.bucket)
	}
	return fmt.Sprintf("the credentials (%s) may not %s%s (%s): %s", key, what, where, code, fix)
}

// permissionOf names the IAM permission each operation needs, for the
// message of ErrAccessDenied.
var permissionOf = map[string]string{
	"ListObjectsV2":           "s3:ListBucket",
	"HeadBucket":              "s3:ListBucket",
	"GetObject":               "s3:GetObject",
	"HeadObject":              "s3:GetObject",
	"GetBucketAcl":            "s3:GetBucketAcl",
	"PutObject":               "s3:PutObject",
	"CreateMultipartUpload":   "s3:PutObject",
	"UploadPart":              "s3:PutObject",
	"CompleteMultipartUpload": "s3:PutObject",
	"AbortMultipartUpload":    "s3:AbortMultipartUpload",
	"DeleteObject":            "s3:DeleteObject",
}

// regionKind recognizes the answers of a store asked in the wrong region:
// AWS answers 301 PermanentRedirect (or a bodiless 301 to HEAD) with the
// bucket's region in x-amz-bucket-region, or 400
// AuthorizationHeaderMalformed with it in the body's <Region>.
func regionKind(err error, r request, status int, code string) error {
	actual := bucketRegionHeader(err)
	if actual == "" {
		actual = r.bodyRegion
	}
	wrong := status == http.StatusMovedPermanently || code == "PermanentRedirect" ||
		status == http.StatusBadRequest && actual != "" && r.region != "" && actual != r.region
	if !wrong {
		return nil
	}
	if actual == r.region {
		actual = "" // the store names no other region
	}
	return &RegionError{Bucket: r.bucket, Configured: r.region, Actual: actual, Code: codeOf(status, code), err: err}
}

// bucketRegionHeader is the x-amz-bucket-region header of an error
// response, "" if none.
func bucketRegionHeader(err error) string {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil && re.Response.Response != nil {
		return re.Response.Header.Get("X-Amz-Bucket-Region")
	}
	return ""
}

// bucketName names the request's bucket for a message.
func bucketName(r request) string {
	if r.bucket == "" {
		return "the bucket"
	}
	return fmt.Sprintf("the bucket %q", r.bucket)
}

// tlsKind recognizes a failed TLS handshake. The SDK counts these as
// connection errors and retries them; the retryer here does not (see
// noRetry), since no retry makes a certificate valid.
func tlsKind(err error, endpoint string) error {
	var (
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		roots     x509.SystemRootsError
		alert     tls.AlertError
		record    tls.RecordHeaderError
		verify    *tls.CertificateVerificationError
	)
	at := endpointOf(err, endpoint)
	var msg string
	switch {
	case errors.As(err, &unknownCA), errors.As(err, &roots):
		msg = fmt.Sprintf("the certificate of %s is not signed by an authority this machine trusts (%s): "+
			"check endpoint, or add the store's CA certificate to the system's trust store (or point SSL_CERT_FILE at it)",
			at, innermost(err))
	case errors.As(err, &hostname):
		msg = fmt.Sprintf("the certificate of %s is not valid for its host name (%s): check endpoint", at, innermost(err))
	case errors.As(err, &invalid):
		msg = fmt.Sprintf("the certificate of %s is not valid (%s): check the store's certificate and this machine's clock",
			at, innermost(err))
	case errors.As(err, &verify):
		msg = fmt.Sprintf("the certificate of %s cannot be verified (%s): check endpoint and the store's certificate",
			at, innermost(err))
	case errors.As(err, &alert), errors.As(err, &record):
		msg = fmt.Sprintf("the TLS handshake with %s failed (%s): check endpoint (http:// or https://, port)",
			at, innermost(err))
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		// net/http's own words, with no error type behind them.
		msg = fmt.Sprintf("%s does not speak TLS (server gave HTTP response to HTTPS client): use an http:// endpoint", at)
	default:
		return nil
	}
	return &Error{Kind: ErrTLS, err: err, msg: msg}
}

func isTLSFailure(err error) bool { return tlsKind(err, "") != nil }

// unreachableKind recognizes an endpoint that cannot be reached at all.
func unreachableKind(err error, endpoint string) error {
	if statusCode(err) != 0 || errorCode(err) != "" {
		return nil // the store answered
	}
	at := endpointOf(err, endpoint)
	var dns *net.DNSError
	var op *net.OpError
	var msg string
	switch {
	case errors.As(err, &dns):
		msg = fmt.Sprintf("cannot resolve the host of %s (%s): check endpoint and region", at, innermost(err))
	case errors.Is(err, syscall.ECONNREFUSED):
		msg = fmt.Sprintf("nothing listens at %s (connection refused): check endpoint and that the store is running", at)
	case errors.As(err, &op) && op.Op == "dial":
		msg = fmt.Sprintf("cannot connect to %s (%s): check endpoint and the network (proxy, firewall)", at, innermost(err))
	default:
		return nil
	}
	return &Error{Kind: ErrUnreachable, err: err, msg: msg}
}

// endpointOf is scheme://host of the request that failed, from the URL
// net/http puts in its errors, else the configured endpoint.
func endpointOf(err error, configured string) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
			return u.Scheme + "://" + u.Host
		}
	}
	if configured != "" {
		return configured
	}
	return "the endpoint"
}

// innermost is the message of the deepest error in err's chain (the first
// branch of joined errors): the cause, without the layers of operation
// names and request ids the SDK wraps around it.
func innermost(err error) string {
	for {
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			next := u.Unwrap()
			if next == nil {
				return err.Error()
			}
			err = next
		case interface{ Unwrap() []error }:
			errs := u.Unwrap()
			if len(errs) == 0 {
				return err.Error()
			}
			err = errs[0]
		default:
			return err.Error()
		}
	}
}

// credentialsError is a failure of credentials that never resolved: the
// chain found none. It tells the SDK's retryer not to try again, since
// the chain has already tried each of its sources.
type credentialsError struct{ err error }

func (e *credentialsError) Error() string        { return e.err.Error() }
func (e *credentialsError) Unwrap() error        { return e.err }
func (e *credentialsError) RetryableError() bool { return false }

// noRetry keeps the SDK from retrying what cannot pass: it is consulted
// before the SDK's own rules, which count a failed TLS handshake as a
// connection error worth minutes of retries.
func noRetry(err error) aws.Ternary {
	if isTLSFailure(err) {
		return aws.FalseTernary
	}
	return aws.UnknownTernary
}

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

// isNotFound: a missing key. Only the codes that say so count: any other
// 404 (NoSuchBucket, versitygw's XAdminUserNotFound for an unknown access
// key) is not a missing key, or a bad key id would read as "file does not
// exist".
func isNotFound(err error) bool {
	if IsPermanent(err) {
		return false
	}
	switch errorCode(err) {
	case "NoSuchKey", "NotFound":
		return true
	case "", "UnknownError":
		return statusCode(err) == http.StatusNotFound
	}
	return false
}

// readErr classifies an error of a request about a listed source object:
// a failed precondition or a vanished key means the object changed.
func readErr(err error) error {
	if k := classified(err); k != nil {
		return k
	}
	switch {
	case errorCode(err) == "PreconditionFailed" || statusCode(err) == http.StatusPreconditionFailed:
		return fmt.Errorf("%w: %w", ErrChanged, err)
	case isNotFound(err):
		return fmt.Errorf("%w: %w", ErrChanged, err)
	}
	return classify(err)
}

// classify marks throttling and missing keys so callers can branch on them
// with errors.Is; the kinds above pass through, and anything else is
// returned unchanged.
func classify(err error) error {
	if k := classified(err); k != nil {
		return k
	}
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
// again later: throttling, 5xx, an unreachable endpoint, dropped
// connections, timeouts, truncated bodies. The permanent kinds, a changed
// object or a canceled context are not transient.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	switch {
	case IsPermanent(err), isTLSFailure(err),
		errors.Is(err, ErrChanged), errors.Is(err, context.Canceled):
		return false
	case errors.Is(err, ErrUnreachable), errors.Is(err, ErrThrottled), errors.Is(err, ErrTruncated),
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
	// No answer at all: connection refused or reset, DNS...
	return retryables.IsErrorRetryable(err).Bool() || isConnErr(err)
}

func isConnErr(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) || errors.Is(err, io.EOF)
}
