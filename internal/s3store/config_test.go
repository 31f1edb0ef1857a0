package s3store_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/s3load/s3load/internal/s3store"
)

func TestConfigNeverShowsSecret(t *testing.T) {
	const secret = "s3cr3t-value-never-printed"
	cfg := s3store.Config{Region: "r", Endpoint: "http://e", AccessKeyID: "AKID", SecretAccessKey: secret}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("cfg", "config", cfg)
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("cfg", "config", cfg)
	outputs := []string{cfg.String(), logged.String()}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		outputs = append(outputs, fmt.Sprintf(verb, cfg), fmt.Sprintf(verb, &cfg),
			fmt.Sprintf(verb, struct{ C s3store.Config }{cfg}))
	}
	for _, out := range outputs {
		if strings.Contains(out, secret) {
			t.Errorf("secret printed: %s", out)
		}
	}
	if !strings.Contains(cfg.String(), "AKID") {
		t.Errorf("String() should still show the access key id: %s", cfg)
	}
}

func TestNewRejectsHalfCredentials(t *testing.T) {
	const secret = "half-secret-value"
	_, err := s3store.New(context.Background(), s3store.Config{Region: "r", SecretAccessKey: secret})
	if err == nil {
		t.Fatal("New accepted a secret without an access key id")
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error holds the secret: %v", err)
	}
	if _, err := s3store.New(context.Background(), s3store.Config{Region: "r", AccessKeyID: "AK"}); err == nil {
		t.Fatal("New accepted an access key id without a secret")
	}
}
