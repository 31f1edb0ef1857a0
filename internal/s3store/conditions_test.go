package s3store_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/s3load/s3load/internal/s3store"
	"github.com/s3load/s3load/internal/testenv"
	"github.com/s3load/s3load/messages"
)

// condition is a setting that cannot work: the store, or the machine,
// answers the same way however often it is asked.
type condition struct {
	name string
	// setup returns the configuration and bucket that meet the condition.
	setup func(t *testing.T) (s3store.Config, string)
	kind  error
	// want are parts of the message: what is wrong, and what to change.
	want []string
	// actualRegion is RegionError.Actual, for ErrWrongRegion.
	actualRegion string
}

var conditions = []condition{
	{
		name: "wrong secret",
		setup: func(t *testing.T) (s3store.Config, string) {
			srv := seeded(t)
			cfg := srv.Config()
			cfg.SecretAccessKey = "wrong-" + srv.SecretAccessKey
			return cfg, srcBucket
		},
		kind: s3store.ErrAuth,
		want: []string{"SignatureDoesNotMatch", "check secret_access_key", `access key id "AK`},
	},
	{
		name: "unknown access key",
		setup: func(t *testing.T) (s3store.Config, string) {
			cfg := seeded(t).Config()
			cfg.AccessKeyID = "AKUNKNOWN0123456789"
			return cfg, srcBucket
		},
		kind: s3store.ErrAuth,
		want: []string{`"AKUNKNOWN0123456789" is not known to the store`, "check access_key_id"},
	},
	{
		name:  "no such bucket",
		setup: func(t *testing.T) (s3store.Config, string) { return seeded(t).Config(), "no-such-bucket" },
		kind:  s3store.ErrNoSuchBucket,
		want:  []string{`"no-such-bucket" does not exist`, "check the bucket name"},
	},
	{
		name: "wrong region",
		setup: func(t *testing.T) (s3store.Config, string) {
			cfg := seeded(t).Config()
			cfg.Region = "eu-west-1"
			return cfg, srcBucket
		},
		kind:         s3store.ErrWrongRegion,
		want:         []string{`s3://src is in region "us-east-1", not "eu-west-1"`, `set region to "us-east-1"`},
		actualRegion: "us-east-1",
	},
	{
		// AWS answers a request in the wrong region with a redirect that
		// names the bucket's region in a header.
		name:         "wrong region, AWS redirect",
		setup:        func(t *testing.T) (s3store.Config, string) { return replay(t, awsPermanentRedirect), srcBucket },
		kind:         s3store.ErrWrongRegion,
		want:         []string{`s3://src is in region "eu-west-1", not "us-east-1"`, `set region to "eu-west-1"`},
		actualRegion: "eu-west-1",
	},
	{
		// ... or with a signature error that names it in the body.
		name:         "wrong region, AWS AuthorizationHeaderMalformed",
		setup:        func(t *testing.T) (s3store.Config, string) { return replay(t, awsMalformedRegion), srcBucket },
		kind:         s3store.ErrWrongRegion,
		want:         []string{`s3://src is in region "eu-west-1", not "us-east-1"`, `set region to "eu-west-1"`},
		actualRegion: "eu-west-1",
	},
	{
		name:  "access denied, AWS",
		setup: func(t *testing.T) (s3store.Config, string) { return replay(t, awsAccessDenied), srcBucket },
		kind:  s3store.ErrAccessDenied,
		want:  []string{`may not`, "s3://src", "(AccessDenied)", "grant s3:"},
	},
	{
		name: "endpoint down",
		setup: func(t *testing.T) (s3store.Config, string) {
			cfg := seeded(t).Config()
			cfg.Endpoint = "http://" + testenv.RefusedAddr(t)
			return cfg, srcBucket
		},
		kind: s3store.ErrUnreachable,
		want: []string{"connection refused", "check endpoint"},
	},
	{
		name: "untrusted TLS certificate",
		setup: func(t *testing.T) (s3store.Config, string) {
			srv := testenv.VersityTLS(t)
			srv.CreateBucket(t, srcBucket)
			return srv.Config(), srcBucket
		},
		kind: s3store.ErrTLS,
		want: []string{"https://127.0.0.1:", "not signed by an authority this machine trusts", "CA certificate"},
	},
	{
		name: "no credentials",
		setup: func(t *testing.T) (s3store.Config, string) {
			cfg := seeded(t).Config()
			cfg.AccessKeyID, cfg.SecretAccessKey = "", ""
			noCredentials(t)
			return cfg, srcBucket
		},
		kind: s3store.ErrNoCredentials,
		want: []string{"no AWS credentials found", "set access_key_id and secret_access_key", "AWS_PROFILE"},
	},
}

// TestPermanentConditions: each condition stops the start-up check in
// seconds, and the load's own patient reads after the store's first
// answer, with its kind and a message that says what to fix.
func TestPermanentConditions(t *testing.T) {
	for _, tc := range conditions {
		t.Run(tc.name, func(t *testing.T) {
			cfg, bucket := tc.setup(t)
			st, err := s3store.New(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			src := messages.Source{Bucket: bucket, Key: "k.csv", ETag: "e", Size: 10}
			ops := []struct {
				name string
				run  func() error
			}{
				{"CheckBucket", func() error { _, err := st.CheckBucket(ctx, bucket); return err }},
				{"CheckACL", func() error { return st.CheckACL(ctx, bucket) }},
				{"ProbePrefix", func() error { _, _, err := st.ProbePrefix(ctx, bucket, "t/"); return err }},
				{"CheckRead", func() error { return st.CheckRead(ctx, bucket, src.Key) }},
				{"List", func() error {
					return st.List(ctx, bucket, "", "", func([]messages.Source) error { return nil })
				}},
				{"Object.Open", func() error { _, err := st.Object(src).Open(ctx); return err }},
				{"Object.ReadAt", func() error { _, err := st.Object(src).ReadAt(ctx, make([]byte, 4), 2); return err }},
			}
			for _, op := range ops {
				start := time.Now()
				err := op.run()
				t.Logf("%s after %v: %v", op.name, time.Since(start).Round(time.Millisecond), err)
				checkCondition(t, op.name, err, tc, cfg.SecretAccessKey)
			}
		})
	}
}

func checkCondition(t *testing.T, op string, err error, tc condition, secret string) {
	t.Helper()
	if !errors.Is(err, tc.kind) {
		t.Errorf("%s: %v, want %v", op, err, tc.kind)
		return
	}
	permanent := tc.kind != s3store.ErrUnreachable
	if s3store.IsPermanent(err) != permanent || s3store.IsTransient(err) == permanent {
		t.Errorf("%s: IsPermanent %v, IsTransient %v: %v", op, s3store.IsPermanent(err), s3store.IsTransient(err), err)
	}
	if errors.Is(err, s3store.ErrChanged) || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s: reads as a changed or missing object: %v", op, err)
	}
	for _, w := range tc.want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: message lacks %q: %v", op, w, err)
		}
	}
	if secret != "" && strings.Contains(err.Error(), secret) {
		t.Errorf("%s: message holds the secret: %v", op, err)
	}
	if strings.Contains(err.Error(), "operation error S3") {
		t.Errorf("%s: message keeps the SDK's wrapping: %v", op, err)
	}
	if tc.kind == s3store.ErrWrongRegion {
		var re *s3store.RegionError
		if !errors.As(err, &re) || re.Actual != tc.actualRegion {
			t.Errorf("%s: RegionError %+v, want the actual region %q", op, re, tc.actualRegion)
		}
	}
}

// seeded is a versitygw with the source bucket and one object in it.
func seeded(t *testing.T) *testenv.S3Server {
	srv := testenv.Versity(t)
	srv.CreateBucket(t, srcBucket)
	srv.Put(t, srcBucket, "k.csv", []byte("a,b\n1,2\n"))
	return srv
}

// Answers as AWS S3 gives them (request and host ids shortened) to a
// client configured for us-east-1 about a bucket in eu-west-1, or with
// credentials that may not read it. A HEAD answer has no body.
var (
	awsPermanentRedirect = awsAnswer{
		status: http.StatusMovedPermanently,
		header: map[string]string{"x-amz-bucket-region": "eu-west-1"},
		body: `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.</Message><Endpoint>src.s3.eu-west-1.amazonaws.com</Endpoint><Bucket>src</Bucket><RequestId>ZF8N1X</RequestId><HostId>c2VjcmV0</HostId></Error>`,
	}
	awsMalformedRegion = awsAnswer{
		status: http.StatusBadRequest,
		// HEAD carries the region in the header; GET only in the body.
		headHeader: map[string]string{"x-amz-bucket-region": "eu-west-1"},
		body: `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>AuthorizationHeaderMalformed</Code><Message>The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'</Message><Region>eu-west-1</Region><RequestId>4QH1X</RequestId><HostId>aG9zdA==</HostId></Error>`,
	}
	awsAccessDenied = awsAnswer{
		status: http.StatusForbidden,
		body: `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>8B1X</RequestId><HostId>aG9zdA==</HostId></Error>`,
	}
)

type awsAnswer struct {
	status             int
	header, headHeader map[string]string
	body               string
}

// replay serves answer to every request, and returns a configuration
// (us-east-1) for it.
func replay(t *testing.T, answer awsAnswer) s3store.Config {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range answer.header {
			w.Header().Set(k, v)
		}
		w.Header().Set("x-amz-request-id", "R1")
		if r.Method == http.MethodHead {
			for k, v := range answer.headHeader {
				w.Header().Set(k, v)
			}
			w.WriteHeader(answer.status)
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(answer.status)
		fmt.Fprint(w, answer.body)
	}))
	t.Cleanup(srv.Close)
	return s3store.Config{
		Region: "us-east-1", Endpoint: srv.URL, PathStyle: true,
		AccessKeyID: "AKREPLAY", SecretAccessKey: fakeSecret,
	}
}
