// Package s3store owns s3load's conversation with S3 and S3-compatible
// stores: listing and reading source objects pinned to the ETag they were
// listed with, writing, reading and deleting objects of an S3 target, the
// start-up checks that a store is usable (check.go), and turning the SDK's
// errors into the few kinds callers branch on.
//
// The source bucket is only ever read: List issues ListObjectsV2 and an
// Object issues GetObject; the checks add HeadBucket and GetBucketAcl.
// Writes (Put, Delete) are for the target bucket; every object written
// carries the Config's WriteSettings (canned ACL, server-side encryption),
// which a source store never has.
//
// # Error kinds
//
// Every error is classified once, in the client's middleware, as the SDK
// hands it back; callers act on the kind with errors.Is. The permanent
// kinds (IsPermanent) cannot pass by retrying, so callers stop at once;
// their messages say what is wrong and which setting to change (region,
// endpoint, access_key_id...), never the secret:
//
//   - ErrAuth: an unknown access key id, a secret that does not match it,
//     an expired or invalid session token.
//   - ErrAccessDenied: valid credentials without the permission needed
//     (AccessDenied, or a 403 with no more specific code).
//   - ErrNoSuchBucket.
//   - ErrWrongRegion: a *RegionError names the bucket's actual region
//     when the store says it.
//   - ErrTLS: an untrusted or invalid certificate, a failed handshake.
//   - ErrNoCredentials: no access key configured and none found by the
//     AWS credential chain.
//
// The other kinds may pass, and IsTransient holds for them: ErrThrottled,
// ErrTruncated, and ErrUnreachable (unknown host, connection refused, no
// answer), which a start-up check still treats as fatal. ErrChanged means
// a listed object was overwritten or deleted since: the file is skipped,
// not retried. A missing key on the target is fs.ErrNotExist; no
// permanent error is ever ErrChanged or fs.ErrNotExist.
package s3store
