package testenv

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3load/s3load/internal/s3store"
	"github.com/s3load/s3load/internal/versity"
)

// BinaryEnv names the environment variable that points at the versitygw
// binary; `make` sets it.
const BinaryEnv = "S3LOAD_VERSITYGW"

// S3Server is a running versitygw with one root account.
type S3Server struct {
	Endpoint        string
	Region          string
	AccessKeyID     string
	SecretAccessKey string
	// Dir is the posix backend's root: each subdirectory is a bucket.
	Dir string
	// AccessLogPath is the server's access log, one line per request.
	AccessLogPath string
	// CertFile is the PEM certificate an HTTPS server presents (see
	// VersityTLS), its own authority; "" for plain HTTP.
	CertFile string

	client *s3.Client // the test's own client, for seeding buckets
}

// Versity starts a versitygw process on a free 127.0.0.1 port, serving a
// posix backend in a temporary directory with fresh random credentials,
// and stops it when the test ends.
func Versity(t testing.TB) *S3Server {
	t.Helper()
	s, err := startVersity(t, versity.Options{Binary: versityBinary(t), Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// versityBinary finds versitygw: $S3LOAD_VERSITYGW, else bin/versitygw in
// the module, else PATH.
func versityBinary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(BinaryEnv); p != "" {
		if isExecutable(p) {
			return p
		}
		t.Fatalf("versitygw not found: run `make tools` (%s=%s is not an executable file)", BinaryEnv, p)
	}
	if p := filepath.Join(ModuleRoot(t), "bin", "versitygw"); isExecutable(p) {
		return p
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	t.Fatalf("versitygw not found: run `make tools`")
	return ""
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// ModuleRoot is the directory holding the module's go.mod, found by walking
// up from the test's working directory (its package directory).
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("finding module root: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("finding module root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// startVersity starts the server and stops it in t.Cleanup.
func startVersity(t testing.TB, o versity.Options) (*S3Server, error) {
	srv, err := versity.Start(context.Background(), o)
	if err != nil {
		return nil, err
	}
	t.Cleanup(srv.Stop)
	s := &S3Server{
		Endpoint:        srv.Endpoint,
		Region:          srv.Region,
		AccessKeyID:     srv.AccessKeyID,
		SecretAccessKey: srv.SecretAccessKey,
		Dir:             srv.Dir,
		AccessLogPath:   srv.AccessLogPath,
		CertFile:        o.CertFile,
	}
	opts := s3.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKeyID, s.SecretAccessKey, ""),
	}
	if s.CertFile != "" {
		if opts.HTTPClient, err = versity.TLSClient(s.CertFile); err != nil {
			return nil, err
		}
	}
	s.client = s3.New(opts)
	return s, nil
}

// Config is an s3store configuration for this server (path style).
func (s *S3Server) Config() s3store.Config {
	return s3store.Config{
		Region:          s.Region,
		Endpoint:        s.Endpoint,
		PathStyle:       true,
		AccessKeyID:     s.AccessKeyID,
		SecretAccessKey: s.SecretAccessKey,
	}
}
