package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"
)

// Store says where to seed the demo bucket.
type Store struct {
	Endpoint, Region       string
	AccessKeyID, SecretKey string
	Bucket                 string
}

// Seed creates the bucket (if needed) and uploads ds into it.
func Seed(ctx context.Context, st Store, ds Dataset) error {
	client := s3.New(s3.Options{
		Region:       st.Region,
		BaseEndpoint: aws.String(st.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(st.AccessKeyID, st.SecretKey, ""),
	})
	_, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(st.Bucket)})
	var owned *types.BucketAlreadyOwnedByYou
	var exists *types.BucketAlreadyExists
	if err != nil && !errors.As(err, &owned) && !errors.As(err, &exists) {
		return fmt.Errorf("creating bucket %s: %w", st.Bucket, err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for _, o := range ds.Objects {
		g.Go(func() error {
			_, err := client.PutObject(gctx, &s3.PutObjectInput{Bucket: aws.String(st.Bucket), Key: aws.String(o.Key), Body: bytes.NewReader(o.Data)})
			if err != nil {
				return fmt.Errorf("uploading %s: %w", o.Key, err)
			}
			return nil
		})
	}
	return g.Wait()
}
