package s3store

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/s3load/s3load/messages"
)

// List calls fn with each page of objects under prefix whose keys come
// after startAfter ("" for all), in key order, as ListObjectsV2 returns them,
// so the caller can act on the first page while later ones are still to be
// fetched, and resume a broken listing where it stopped. An error from fn
// stops the listing and is returned wrapped.
func (s *Store) List(ctx context.Context, bucket, prefix, startAfter string, fn func(page []messages.Source) error) error {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)}
	if startAfter != "" {
		in.StartAfter = aws.String(startAfter)
	}
	if s.maxKeys > 0 {
		in.MaxKeys = aws.Int32(s.maxKeys)
	}
	where := "s3://" + bucket + "/" + prefix
	p := s3.NewListObjectsV2Paginator(s.client, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx, fastList)
		if err != nil {
			return fmt.Errorf("listing %s: %w", where, classify(err))
		}
		var page []messages.Source
		if objs, ok := out.ResultMetadata.Get(listedKey{}).([]listedObject); ok && len(out.Contents) == 0 {
			page = make([]messages.Source, len(objs))
			for i, o := range objs {
				page[i] = messages.Source{Bucket: bucket, Key: o.key, ETag: strings.Clone(unquote(o.etag)), Size: o.size}
			}
		} else {
			page = make([]messages.Source, 0, len(out.Contents))
			for _, o := range out.Contents {
				page = append(page, messages.Source{
					Bucket: bucket,
					Key:    aws.ToString(o.Key),
					// A copy, not a slice of the quoted ETag: a held listing
					// of a million keys would keep the quotes' allocations.
					ETag: strings.Clone(unquote(aws.ToString(o.ETag))),
					Size: aws.ToInt64(o.Size),
				})
			}
		}
		if len(page) == 0 {
			continue
		}
		if err := fn(page); err != nil {
			return fmt.Errorf("listing %s: %w", where, err)
		}
	}
	return nil
}

// ListKeys returns every object under prefix; it is for target prefixes,
// whose listings are small.
func (s *Store) ListKeys(ctx context.Context, bucket, prefix string) ([]messages.Source, error) {
	var all []messages.Source
	err := s.List(ctx, bucket, prefix, "", func(page []messages.Source) error {
		all = append(all, page...)
		return nil
	})
	return all, err
}

// unquote strips the quotes S3 puts around ETags, and a weak marker if a
// store adds one.
func unquote(etag string) string {
	etag = strings.TrimPrefix(etag, "W/")
	return strings.Trim(etag, `"`)
}
