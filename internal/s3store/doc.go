// Package s3store owns s3load's conversation with S3 and S3-compatible
// stores: listing and reading source objects pinned to the ETag they were
// listed with, writing, reading and deleting objects of an S3 target, and
// turning the SDK's errors into the few kinds callers branch on
// (ErrChanged, ErrThrottled, ErrTruncated, IsTransient).
//
// The source bucket is only ever read: List issues ListObjectsV2 and an
// Object issues GetObject, nothing else. Writes (Put, Delete) are for the
// target bucket.
package s3store
