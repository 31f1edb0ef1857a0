package s3store

import (
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// WriteSettings are what every object a target store writes carries:
// PutObject, CreateMultipartUpload and the conditional puts. Reads never
// carry them, and the source store has none (s3load never writes there).
type WriteSettings struct {
	// ACL is a canned ACL (types.ObjectCannedACL), e.g.
	// bucket-owner-full-control for a bucket owned by another account;
	// "" leaves the bucket's default.
	ACL string
	// SSE is the server-side encryption to ask for: AES256, aws:kms or
	// aws:kms:dsse; "" leaves the bucket's default encryption.
	SSE string
	// SSEKMSKeyID is the KMS key of aws:kms or aws:kms:dsse; "" is the
	// account's default key. It is no secret, but errors do not repeat it.
	SSEKMSKeyID string
}

// validate reports the first setting S3 would refuse, before any write does.
func (w WriteSettings) validate() error {
	// The SDK's list less the encryptions S3 sets on its own (aws:fsx,
	// aws:backup).
	sseValues := []types.ServerSideEncryption{
		types.ServerSideEncryptionAes256, types.ServerSideEncryptionAwsKms, types.ServerSideEncryptionAwsKmsDsse,
	}
	if w.ACL != "" && !slices.Contains(types.ObjectCannedACL("").Values(), types.ObjectCannedACL(w.ACL)) {
		return fmt.Errorf("unknown canned ACL %q (want one of %v)", w.ACL, types.ObjectCannedACL("").Values())
	}
	if w.SSE != "" && !slices.Contains(sseValues, types.ServerSideEncryption(w.SSE)) {
		return fmt.Errorf("unknown server-side encryption %q (want one of %v)", w.SSE, sseValues)
	}
	if w.SSEKMSKeyID != "" && !w.kms() {
		return fmt.Errorf("a KMS key id needs server-side encryption aws:kms or aws:kms:dsse (got %q)", w.SSE)
	}
	return nil
}

func (w WriteSettings) kms() bool {
	return w.SSE == string(types.ServerSideEncryptionAwsKms) || w.SSE == string(types.ServerSideEncryptionAwsKmsDsse)
}

// applyPut sets the settings on a PutObject, plain or conditional.
func (w WriteSettings) applyPut(in *s3.PutObjectInput) {
	in.ACL = types.ObjectCannedACL(w.ACL)
	in.ServerSideEncryption = types.ServerSideEncryption(w.SSE)
	in.SSEKMSKeyId = optional(w.SSEKMSKeyID)
}

// applyCreate sets the settings on a multipart upload; its parts inherit
// them (UploadPart takes encryption headers only for customer keys).
func (w WriteSettings) applyCreate(in *s3.CreateMultipartUploadInput) {
	in.ACL = types.ObjectCannedACL(w.ACL)
	in.ServerSideEncryption = types.ServerSideEncryption(w.SSE)
	in.SSEKMSKeyId = optional(w.SSEKMSKeyID)
}

// optional is nil for "", so the SDK sends no header.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
