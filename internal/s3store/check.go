package s3store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// The checks below run before a load, so that a wrong setting stops it in
// seconds with a message that says what to fix. They use the store's
// check client (few attempts, short timeouts) and each ends within
// CheckTimeout; their errors have the kinds of errors.go, an endpoint that
// does not answer in time being ErrUnreachable.

// BucketInfo is what CheckBucket learned about a bucket and the
// credentials.
type BucketInfo struct {
	// Region is the bucket's region as the store reports it, else the
	// configured one.
	Region string
	// CredentialSource says where the credentials came from: "static",
	// "environment", "shared profile (/path)", "web identity", "sso",
	// "ec2 instance role"... never what they are.
	CredentialSource string
}

// checkCredentialsTimeout leaves a slow credential chain (the SDK probes
// the instance metadata service for seconds on a machine that has none)
// part of CheckTimeout, so that a missing credential is reported as such.
const checkCredentialsTimeout = 3 * time.Second

// suggestPages bounds SuggestPrefix's listing of a folder.
const suggestPages = 5

// CheckBucket checks that credentials resolve and that bucket exists, in
// the configured region, and may be listed with them (HeadBucket). The
// credential source is filled in even when the bucket fails the check.
func (s *Store) CheckBucket(ctx context.Context, bucket string) (BucketInfo, error) {
	cctx, cancel := context.WithTimeout(ctx, CheckTimeout)
	defer cancel()
	source, err := s.checkCredentials(cctx)
	if err != nil {
		return BucketInfo{}, err
	}
	info := BucketInfo{Region: s.region, CredentialSource: source}
	out, err := s.check.HeadBucket(cctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)})
	if err == nil {
		if r := aws.ToString(out.BucketRegion); r != "" {
			info.Region = r
		}
		return info, nil
	}
	if bodiless(err) {
		// A HEAD answer has no body, hence no error code: 403 may be a bad
		// signature or a denial, and versitygw answers 404 to an unknown
		// access key. A GET names the cause.
		_, gerr := s.check.ListObjectsV2(cctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), MaxKeys: aws.Int32(1)})
		if gerr != nil && !bodiless(gerr) && (statusCode(gerr) != 0 || isClassified(gerr)) {
			err = gerr
		}
	}
	return info, s.checkErr(ctx, err)
}

// bodiless: an error answer whose code the SDK made up from the status,
// as it does for HEAD requests.
func bodiless(err error) bool {
	switch errorCode(err) {
	case "Forbidden", "NotFound", "BadRequest":
		return true
	}
	return false
}

// CheckACL checks that the credentials may read bucket's ACL
// (GetBucketAcl), one of the permissions a Celonis S3 connection needs
// along with s3:ListBucket and s3:GetObject.
func (s *Store) CheckACL(ctx context.Context, bucket string) error {
	cctx, cancel := context.WithTimeout(ctx, CheckTimeout)
	defer cancel()
	_, err := s.check.GetBucketAcl(cctx, &s3.GetBucketAclInput{Bucket: aws.String(bucket)})
	if err != nil {
		return s.checkErr(ctx, err)
	}
	return nil
}

// ProbePrefix lists at most one object under prefix: found says whether
// there is any, first is its key.
func (s *Store) ProbePrefix(ctx context.Context, bucket, prefix string) (first string, found bool, err error) {
	p, err := s.SamplePrefix(ctx, bucket, prefix, 1)
	return p.First, p.Count > 0, err
}

// PrefixSample is what SamplePrefix saw under a prefix.
type PrefixSample struct {
	// Count is how many objects the listing returned, at most the limit.
	Count int
	// More says there are more objects than Count.
	More bool
	// First is the first file (not a folder marker, not empty), else the
	// first key; "" if none.
	First string
}

// SamplePrefix lists one page of at most limit objects (1 to 1000) under
// prefix: enough to tell an empty prefix from a full one, and to name an
// object to read, in one request.
func (s *Store) SamplePrefix(ctx context.Context, bucket, prefix string, limit int) (PrefixSample, error) {
	cctx, cancel := context.WithTimeout(ctx, CheckTimeout)
	defer cancel()
	out, err := s.check.ListObjectsV2(cctx, &s3.ListObjectsV2Input{
		Bucket: aws.String(bucket), Prefix: aws.String(prefix), MaxKeys: aws.Int32(int32(min(max(limit, 1), 1000))),
	})
	if err != nil {
		return PrefixSample{}, s.checkErr(ctx, err)
	}
	p := PrefixSample{Count: len(out.Contents), More: aws.ToBool(out.IsTruncated)}
	// The first file, passing over folder markers and empty objects, which
	// say nothing of whether files can be read; else the first key.
	for _, o := range out.Contents {
		if key := aws.ToString(o.Key); !strings.HasSuffix(key, "/") && aws.ToInt64(o.Size) > 0 {
			p.First = key
			break
		}
	}
	if p.First == "" && p.Count > 0 {
		p.First = aws.ToString(out.Contents[0].Key)
	}
	return p, nil
}

// SuggestPrefix proposes what an empty prefix may have meant: it lists
// the prefix's parent "folder" (the part up to its last "/" but one,
// a few pages at most) and returns the entry closest to it by edit
// distance, "orders/" for "order/", or "" if none is close.
func (s *Store) SuggestPrefix(ctx context.Context, bucket, prefix string) (string, error) {
	name := strings.TrimSuffix(prefix, "/")
	if name == "" {
		return "", nil
	}
	parent := name[:strings.LastIndex(name, "/")+1]
	cctx, cancel := context.WithTimeout(ctx, CheckTimeout)
	defer cancel()
	p := s3.NewListObjectsV2Paginator(s.check, &s3.ListObjectsV2Input{
		Bucket: aws.String(bucket), Prefix: aws.String(parent), Delimiter: aws.String("/"),
	})
	var entries []string
	for page := 0; page < suggestPages && p.HasMorePages(); page++ {
		out, err := p.NextPage(cctx)
		if err != nil {
			return "", s.checkErr(ctx, err)
		}
		for _, cp := range out.CommonPrefixes {
			entries = append(entries, aws.ToString(cp.Prefix))
		}
		for _, o := range out.Contents {
			entries = append(entries, aws.ToString(o.Key))
		}
	}
	best := closest(name[len(parent):], parent, entries)
	if best == "" {
		return "", nil
	}
	if strings.HasSuffix(prefix, "/") {
		return best + "/", nil
	}
	return best, nil
}

// closest is the entry under parent whose name is nearest to want, with
// no trailing "/", or "" if none is within a third of want's length (at
// least 1). Case differences count less than other edits, so "Orders"
// beats "order" for "orders".
func closest(want, parent string, entries []string) string {
	limit := max(1, utf8.RuneCountInString(want)/3)
	best, bestLower, bestExact := "", limit+1, 0
	for _, e := range entries {
		e = strings.TrimSuffix(e, "/")
		n := strings.TrimPrefix(e, parent)
		if n == want || n == "" {
			continue
		}
		lower, exact := editDistance(strings.ToLower(n), strings.ToLower(want)), editDistance(n, want)
		if lower < bestLower || lower == bestLower && exact < bestExact {
			best, bestLower, bestExact = e, lower, exact
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// CheckRead reads the first byte of bucket/key (a ranged GetObject): the
// credentials may read objects, and the store serves them.
func (s *Store) CheckRead(ctx context.Context, bucket, key string) error {
	cctx, cancel := context.WithTimeout(ctx, CheckTimeout)
	defer cancel()
	out, err := s.check.GetObject(cctx, &s3.GetObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Range: aws.String("bytes=0-0"),
	})
	if err != nil {
		if statusCode(err) == http.StatusRequestedRangeNotSatisfiable {
			return nil // an empty object: readable, with no first byte
		}
		return s.checkErr(ctx, err)
	}
	defer closeBody(out.Body)
	if _, err := io.Copy(io.Discard, out.Body); err != nil {
		return s.checkErr(ctx, fmt.Errorf("reading s3://%s/%s: %w", bucket, key, err))
	}
	return nil
}

// CheckCredentials resolves the credentials and says where they came
// from (as BucketInfo.CredentialSource), never what they are.
func (s *Store) CheckCredentials(ctx context.Context) (string, error) {
	cctx, cancel := context.WithTimeout(ctx, CheckTimeout)
	defer cancel()
	return s.checkCredentials(cctx)
}

// checkCredentials resolves the credentials within checkCredentialsTimeout
// and says where they came from.
func (s *Store) checkCredentials(ctx context.Context) (string, error) {
	if s.creds == nil {
		return "anonymous", nil
	}
	cctx, cancel := context.WithTimeout(ctx, checkCredentialsTimeout)
	defer cancel()
	v, err := s.creds.Retrieve(cctx)
	switch {
	case err == nil:
		return credentialSource(v.Source), nil
	case ctx.Err() != nil:
		return "", fmt.Errorf("resolving credentials: %w", ctx.Err())
	case cctx.Err() != nil:
		return "", noCredentials(fmt.Sprintf("none within %s", checkCredentialsTimeout), err)
	}
	if k := classified(classifyRequest(err, request{})); k != nil {
		return "", k
	}
	return "", fmt.Errorf("resolving credentials: %w", err)
}

// checkErr classifies a check's error; a check that ran out of time while
// its caller still waits met an endpoint that does not answer.
func (s *Store) checkErr(ctx context.Context, err error) error {
	err = classify(err)
	if ctx.Err() == nil && !isClassified(err) && errors.Is(err, context.DeadlineExceeded) {
		return &Error{Kind: ErrUnreachable, err: err, msg: fmt.Sprintf(
			"no answer from %s within %s: check endpoint and the network (proxy, firewall)", endpointOf(err, s.endpoint), CheckTimeout)}
	}
	return err
}
