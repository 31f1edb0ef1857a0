package s3store_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/s3load/s3load/internal/s3store"
	"github.com/s3load/s3load/internal/testenv"
)

// apiError is an error as the SDK returns it for an error answer.
func apiError(op string, status int, code string, header map[string]string) error {
	h := http.Header{}
	for k, v := range header {
		h.Set(k, v)
	}
	return &smithy.OperationError{ServiceID: "S3", OperationName: op, Err: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: h}},
			Err:      &smithy.GenericAPIError{Code: code, Message: "message"},
		},
		RequestID: "R1",
	}}
}

// sendError is an error as the SDK returns it when no answer came.
func sendError(op string, cause error) error {
	return &smithy.OperationError{ServiceID: "S3", OperationName: op, Err: &smithyhttp.RequestSendError{
		Err: &url.Error{Op: "Get", URL: "https://s3.example.com:9000/b/k?x-id=GetObject", Err: cause},
	}}
}

func testCert(t *testing.T) *x509.Certificate {
	certFile, _, err := testenv.SelfSignedCert(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// TestClassify: errors built as the SDK builds them get their kind and a
// message that says what is wrong and what to change.
func TestClassify(t *testing.T) {
	cert := testCert(t)
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}
	tests := []struct {
		name string
		op   string
		err  error
		// kind is the kind wanted; nil for none of the named kinds.
		kind      error
		notFound  bool // fs.ErrNotExist
		transient bool
		want      []string
	}{
		{name: "unknown key", op: "ListObjectsV2", err: apiError("ListObjectsV2", 403, "InvalidAccessKeyId", nil),
			kind: s3store.ErrAuth, want: []string{`access key id "AKID" is not known to the store (InvalidAccessKeyId): check access_key_id`}},
		{name: "unknown key, versitygw", op: "GetObject", err: apiError("GetObject", 404, "XAdminUserNotFound", nil),
			kind: s3store.ErrAuth, want: []string{`"AKID" is not known`, "(XAdminUserNotFound)"}},
		{name: "bad signature", op: "GetObject", err: apiError("GetObject", 403, "SignatureDoesNotMatch", nil),
			kind: s3store.ErrAuth, want: []string{`access key id "AKID"`, "(SignatureDoesNotMatch): check secret_access_key"}},
		{name: "expired token", op: "GetObject", err: apiError("GetObject", 400, "ExpiredToken", nil),
			kind: s3store.ErrAuth, want: []string{"expired or is not valid (ExpiredToken)", "renew"}},
		{name: "invalid token", op: "GetObject", err: apiError("GetObject", 400, "InvalidToken", nil), kind: s3store.ErrAuth},
		{name: "token refresh", op: "GetObject", err: apiError("GetObject", 400, "TokenRefreshRequired", nil), kind: s3store.ErrAuth},
		{name: "access denied", op: "GetObject", err: apiError("GetObject", 403, "AccessDenied", nil),
			kind: s3store.ErrAccessDenied, want: []string{`may not GetObject s3://b/k (AccessDenied)`, `grant s3:GetObject on bucket "b"`}},
		{name: "403 with no code", op: "ListObjectsV2", err: apiError("ListObjectsV2", 403, "", nil),
			kind: s3store.ErrAccessDenied, want: []string{"may not ListObjectsV2 s3://b/k (HTTP 403)", "s3:ListBucket"}},
		{name: "403 to HEAD", op: "HeadBucket", err: apiError("HeadBucket", 403, "Forbidden", nil),
			kind: s3store.ErrAccessDenied, want: []string{"(Forbidden)"}},
		{name: "403 of another cause", op: "GetObject", err: apiError("GetObject", 403, "InvalidObjectState", nil)},
		{name: "no such bucket", op: "GetObject", err: apiError("GetObject", 404, "NoSuchBucket", nil),
			kind: s3store.ErrNoSuchBucket, want: []string{`the bucket "b" does not exist (NoSuchBucket): check the bucket name`}},
		{name: "404 to HeadBucket", op: "HeadBucket", err: apiError("HeadBucket", 404, "NotFound", nil), kind: s3store.ErrNoSuchBucket},
		{name: "404 to HeadObject", op: "HeadObject", err: apiError("HeadObject", 404, "NotFound", nil), notFound: true},
		{name: "no such key", op: "GetObject", err: apiError("GetObject", 404, "NoSuchKey", nil), notFound: true},
		{name: "404 of another cause", op: "GetObject", err: apiError("GetObject", 404, "NoSuchUpload", nil)},
		{name: "redirect", op: "ListObjectsV2",
			err:  apiError("ListObjectsV2", 301, "PermanentRedirect", map[string]string{"x-amz-bucket-region": "eu-west-1"}),
			kind: s3store.ErrWrongRegion, want: []string{`s3://b is in region "eu-west-1", not "us-east-1" (PermanentRedirect): set region to "eu-west-1"`}},
		{name: "redirect naming no region", op: "HeadBucket", err: apiError("HeadBucket", 301, "MovedPermanently", nil),
			kind: s3store.ErrWrongRegion, want: []string{`s3://b is not in region "us-east-1" (MovedPermanently): set region to the bucket's region`}},
		{name: "400 to HEAD naming another region", op: "HeadBucket",
			err:  apiError("HeadBucket", 400, "BadRequest", map[string]string{"x-amz-bucket-region": "ap-south-1"}),
			kind: s3store.ErrWrongRegion, want: []string{`set region to "ap-south-1"`}},
		{name: "400 naming this region", op: "HeadBucket",
			err: apiError("HeadBucket", 400, "BadRequest", map[string]string{"x-amz-bucket-region": "us-east-1"})},
		{name: "malformed authorization naming no region", op: "GetObject", err: apiError("GetObject", 400, "AuthorizationHeaderMalformed", nil)},
		{name: "throttled", op: "GetObject", err: apiError("GetObject", 503, "SlowDown", nil), transient: true},
		{name: "untrusted certificate", op: "GetObject",
			err:  sendError("GetObject", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{Cert: cert}}),
			kind: s3store.ErrTLS, want: []string{"certificate of https://s3.example.com:9000 is not signed by an authority", "CA certificate"}},
		{name: "certificate for another host", op: "GetObject",
			err:  sendError("GetObject", &tls.CertificateVerificationError{Err: x509.HostnameError{Certificate: cert, Host: "s3.example.com"}}),
			kind: s3store.ErrTLS, want: []string{"not valid for its host name", "check endpoint"}},
		{name: "expired certificate", op: "GetObject",
			err:  sendError("GetObject", &tls.CertificateVerificationError{Err: x509.CertificateInvalidError{Cert: cert, Reason: x509.Expired}}),
			kind: s3store.ErrTLS, want: []string{"is not valid (x509: certificate has expired", "clock"}},
		{name: "handshake alert", op: "GetObject", err: sendError("GetObject", tls.AlertError(40)),
			kind: s3store.ErrTLS, want: []string{"TLS handshake with https://s3.example.com:9000 failed", "handshake failure"}},
		{name: "plain HTTP server", op: "GetObject", err: sendError("GetObject", errors.New("http: server gave HTTP response to HTTPS client")),
			kind: s3store.ErrTLS, want: []string{"https://s3.example.com:9000 does not speak TLS", "use an http:// endpoint"}},
		{name: "connection refused", op: "GetObject", err: sendError("GetObject", refused), kind: s3store.ErrUnreachable, transient: true,
			want: []string{"nothing listens at https://s3.example.com:9000 (connection refused): check endpoint"}},
		{name: "unknown host", op: "GetObject",
			err:  sendError("GetObject", &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "s3.example.com", IsNotFound: true}}),
			kind: s3store.ErrUnreachable, transient: true, want: []string{"cannot resolve the host of https://s3.example.com:9000", "no such host", "check endpoint"}},
		{name: "connection reset", op: "GetObject",
			err:       sendError("GetObject", &net.OpError{Op: "read", Net: "tcp", Err: &os.SyscallError{Syscall: "read", Err: syscall.ECONNRESET}}),
			transient: true},
		{name: "no credentials", op: "GetObject",
			err:  &smithy.OperationError{ServiceID: "S3", OperationName: "GetObject", Err: s3store.NoCredentialsError(errors.New("failed to refresh cached credentials, no EC2 IMDS role found"))},
			kind: s3store.ErrNoCredentials, want: []string{"no AWS credentials found (no EC2 IMDS role found): set access_key_id and secret_access_key"}},
		{name: "no credentials, the chain saw an HTTP 404", op: "GetObject",
			err: &smithy.OperationError{ServiceID: "S3", OperationName: "GetObject", Err: s3store.NoCredentialsError(
				apiError("GetMetadata", 404, "", nil))},
			kind: s3store.ErrNoCredentials},
		{name: "canceled", op: "GetObject", err: sendError("GetObject", context.Canceled)},
	}
	kinds := []error{s3store.ErrAuth, s3store.ErrAccessDenied, s3store.ErrNoSuchBucket, s3store.ErrWrongRegion,
		s3store.ErrTLS, s3store.ErrNoCredentials, s3store.ErrUnreachable}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s3store.Classify(tc.err, tc.op, "b", "k", "AKID", "us-east-1")
			for _, k := range kinds {
				if got := errors.Is(err, k); got != (k == tc.kind) {
					t.Errorf("Is(%v) = %v: %v", k, got, err)
				}
			}
			permanent := tc.kind != nil && tc.kind != s3store.ErrUnreachable
			if s3store.IsPermanent(err) != permanent {
				t.Errorf("IsPermanent = %v, want %v: %v", !permanent, permanent, err)
			}
			if got := s3store.IsTransient(err); got != tc.transient {
				t.Errorf("IsTransient = %v, want %v: %v", got, tc.transient, err)
			}
			if got := errors.Is(err, fs.ErrNotExist); got != tc.notFound {
				t.Errorf("Is(fs.ErrNotExist) = %v, want %v: %v", got, tc.notFound, err)
			}
			if !errors.Is(err, tc.err) {
				t.Errorf("the SDK's error is lost: %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message lacks %q: %v", w, err)
				}
			}
		})
	}
}

// TestRegionError: callers can read the regions off a wrong-region error.
func TestRegionError(t *testing.T) {
	err := s3store.Classify(apiError("ListObjectsV2", 301, "PermanentRedirect",
		map[string]string{"x-amz-bucket-region": "eu-central-1"}), "ListObjectsV2", "data", "", "AK", "us-east-1")
	var re *s3store.RegionError
	if !errors.As(err, &re) || re.Bucket != "data" || re.Configured != "us-east-1" || re.Actual != "eu-central-1" || re.Code != "PermanentRedirect" {
		t.Fatalf("RegionError %+v from %v", re, err)
	}
}
