package s3store

import (
	"context"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// credentialsProvider wraps the store's credentials. A failure before
// any credentials ever resolved means the chain has none: it becomes a
// credentialsError, which the SDK does not retry, so a machine without
// credentials learns it at once rather than after every attempt has
// probed the instance metadata service again. Once credentials have
// resolved, a failed refresh (an IMDS or STS hiccup) stays the SDK's to
// retry.
type credentialsProvider struct {
	inner    aws.CredentialsProvider
	resolved atomic.Bool
}

func (c *credentialsProvider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	v, err := c.inner.Retrieve(ctx)
	switch {
	case err == nil:
		c.resolved.Store(true)
		return v, nil
	case c.resolved.Load(), ctx.Err() != nil:
		// A caller that gave up is not told there are no credentials.
		return v, err
	}
	return v, &credentialsError{err: err}
}

// ProviderSources passes the chain's sources on to the SDK's user agent.
func (c *credentialsProvider) ProviderSources() []aws.CredentialSource {
	if ps, ok := c.inner.(aws.CredentialProviderSource); ok {
		return ps.ProviderSources()
	}
	return nil
}

// accessKeyID is the access key id of the credentials in use, for error
// messages; "" if they do not resolve.
func (s *Store) accessKeyID(ctx context.Context) string {
	if s.creds == nil {
		return ""
	}
	v, err := s.creds.Retrieve(ctx)
	if err != nil {
		return ""
	}
	return v.AccessKeyID
}

// credentialSources names the SDK's credential providers for people.
var credentialSources = map[string]string{
	"StaticCredentials":           "static",
	"EnvConfigCredentials":        "environment",
	"SharedConfigCredentials":     "shared profile",
	"AssumeRoleProvider":          "assumed role",
	"WebIdentityCredentials":      "web identity",
	"SSOProvider":                 "sso",
	"EC2RoleProvider":             "ec2 instance role",
	"CredentialsEndpointProvider": "ecs/container role",
	"ProcessProvider":             "credential process",
	"LoginProvider":               "aws login",
}

// credentialSource names where credentials came from, never what they
// are. The SDK spells a shared file's source "SharedConfigCredentials:
// /path"; the path is kept.
func credentialSource(source string) string {
	name, detail, _ := strings.Cut(source, ":")
	human, ok := credentialSources[name]
	if !ok {
		return source
	}
	if detail = strings.TrimSpace(detail); detail != "" {
		return human + " (" + detail + ")"
	}
	return human
}
