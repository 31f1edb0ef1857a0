package config

import (
	"strings"
	"testing"
)

// targetS3Doc is valid with an s3:// target and the target_s3 block given.
func targetS3Doc(block string) string {
	doc := strings.Replace(valid, "target: file:///var/lib/s3load/out", "target: s3://lake/tables\ntarget_s3:\n  region: eu-west-1\n"+block, 1)
	return doc
}

func TestTargetS3WriteSettings(t *testing.T) {
	c, err := Parse([]byte(targetS3Doc("  acl: bucket-owner-full-control\n  sse: aws:kms\n  sse_kms_key_id: arn:aws:kms:eu-west-1:111122223333:key/k1\n")),
		env(map[string]string{"S3_KEY": "k", "S3_SECRET": "s"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := *c.TargetS3; got.ACL != "bucket-owner-full-control" || got.SSE != "aws:kms" || got.SSEKMSKeyID != "arn:aws:kms:eu-west-1:111122223333:key/k1" {
		t.Errorf("target_s3 = %+v", got)
	}
	for _, block := range []string{"  acl: private\n", "  sse: AES256\n", "  sse: aws:kms:dsse\n  sse_kms_key_id: k\n", "  acl: bucket-owner-read\n  sse: aws:kms\n"} {
		if _, err := Parse([]byte(targetS3Doc(block)), env(map[string]string{"S3_KEY": "k", "S3_SECRET": "s"})); err != nil {
			t.Errorf("%q: %v", block, err)
		}
	}
}

func TestTargetS3WriteSettingsRejected(t *testing.T) {
	const keyID = "arn:aws:kms:eu-west-1:111122223333:key/never-echoed"
	vars := env(map[string]string{"S3_KEY": "k", "S3_SECRET": "s"})
	tests := []struct {
		name, doc string
		want      []string
	}{
		{"unknown acl", targetS3Doc("  acl: bucket-owner-full\n"),
			[]string{`target_s3.acl: must be a canned ACL`, "bucket-owner-full-control", `(got "bucket-owner-full")`}},
		{"acl of another case", targetS3Doc("  acl: Private\n"), []string{"target_s3.acl"}},
		{"unknown sse", targetS3Doc("  sse: aws:fsx\n"), []string{"target_s3.sse: must be one of AES256, aws:kms, aws:kms:dsse"}},
		{"kms key without kms", targetS3Doc("  sse: AES256\n  sse_kms_key_id: " + keyID + "\n"), []string{"target_s3.sse_kms_key_id: needs sse: aws:kms"}},
		{"kms key alone", targetS3Doc("  sse_kms_key_id: " + keyID + "\n"), []string{"target_s3.sse_kms_key_id"}},
		{"acl on the source", strings.Replace(valid, "path_style: true", "path_style: true\n  acl: private", 1),
			[]string{"source.acl: is for target_s3 only"}},
		{"sse on the source", strings.Replace(valid, "path_style: true", "path_style: true\n  sse: AES256\n  sse_kms_key_id: "+keyID, 1),
			[]string{"source.sse: is for target_s3 only", "source.sse_kms_key_id: is for target_s3 only"}},
		{"unknown target_s3 key", targetS3Doc("  sse_kms_key: k\n"), []string{"target_s3.sse_kms_key: unknown key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc), vars)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want it to say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), keyID) {
				t.Errorf("err repeats the KMS key id: %v", err)
			}
		})
	}
}
