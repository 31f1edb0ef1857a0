package s3store

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"net/http"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// classifyErrors adds the middleware that gives every error of a request
// its kind (see classifyRequest) as the SDK hands it back, after its
// retries: every caller, whichever file it is in, then sees the same
// kinds, with the bucket, key, operation, access key id and region they
// concern.
func (s *Store) classifyErrors(stack *middleware.Stack) error {
	if err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("s3store.classify",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
			middleware.InitializeOutput, middleware.Metadata, error,
		) {
			r := &request{op: awsmiddleware.GetOperationName(ctx), region: s.region, endpoint: s.endpoint}
			r.bucket, r.key = target(in.Parameters)
			ctx = middleware.WithStackValue(ctx, requestKey{}, r)
			out, md, err := next.HandleInitialize(ctx, in)
			if err != nil {
				if statusCode(err) != 0 {
					// The request was signed, so the credentials are cached.
					r.accessKeyID = s.accessKeyID(ctx)
				}
				err = classifyRequest(err, *r)
			}
			return out, md, err
		}), middleware.Before); err != nil {
		return err
	}
	// Innermost, next to the transport, to see the raw response.
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("s3store.errorRegion", peekRegion), middleware.After)
}

type requestKey struct{}

// maxErrorBody bounds what peekRegion reads of an error body; S3's are a
// few hundred bytes.
const maxErrorBody = 64 << 10

// peekRegion keeps the <Region> of a 400 or 301 error body, where AWS
// names a bucket's region when asked in another one without the
// x-amz-bucket-region header, and puts the body back for the SDK.
func peekRegion(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
	middleware.DeserializeOutput, middleware.Metadata, error,
) {
	out, md, err := next.HandleDeserialize(ctx, in)
	resp, ok := out.RawResponse.(*smithyhttp.Response)
	r, _ := middleware.GetStackValue(ctx, requestKey{}).(*request)
	if err != nil || !ok || r == nil || resp.Body == nil ||
		resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusMovedPermanently {
		return out, md, err
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), resp.Body), resp.Body}
	if rerr != nil {
		return out, md, err
	}
	var e struct {
		Region string `xml:"Region"`
	}
	if xml.Unmarshal(body, &e) == nil {
		r.bodyRegion = e.Region
	}
	return out, md, err
}

// target is the bucket and key an operation's input names.
func target(params any) (bucket, key string) {
	switch in := params.(type) {
	case *s3.ListObjectsV2Input:
		return deref(in.Bucket), ""
	case *s3.HeadBucketInput:
		return deref(in.Bucket), ""
	case *s3.GetBucketAclInput:
		return deref(in.Bucket), ""
	case *s3.GetObjectInput:
		return deref(in.Bucket), deref(in.Key)
	case *s3.HeadObjectInput:
		return deref(in.Bucket), deref(in.Key)
	case *s3.PutObjectInput:
		return deref(in.Bucket), deref(in.Key)
	case *s3.DeleteObjectInput:
		return deref(in.Bucket), deref(in.Key)
	case *s3.CreateMultipartUploadInput:
		return deref(in.Bucket), deref(in.Key)
	case *s3.UploadPartInput:
		return deref(in.Bucket), deref(in.Key)
	case *s3.CompleteMultipartUploadInput:
		return deref(in.Bucket), deref(in.Key)
	case *s3.AbortMultipartUploadInput:
		return deref(in.Bucket), deref(in.Key)
	}
	return "", ""
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
