package config

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEConfig: the config the README shows is one Parse accepts, so
// the documentation cannot drift from the keys and rules.
func TestREADMEConfig(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "## The config file\n\n```yaml\n")
	if !ok {
		t.Fatal("the README has no config example under \"## The config file\"")
	}
	doc, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("the README's config example does not end")
	}
	vars := env(map[string]string{"S3_KEY": "k", "S3_SECRET": "s", "CATALOG_TOKEN": "t", "NATS_PASSWORD": "p"})
	c, err := Parse([]byte(doc), vars)
	if err != nil {
		t.Fatalf("the README's config example is refused: %v", err)
	}
	if len(c.Tables) == 0 || c.Tables[0].OnError != OnErrorSkipRow || len(c.Tables[0].Columns) != 2 {
		t.Errorf("the README's example parsed as %+v", c.Tables)
	}
}
