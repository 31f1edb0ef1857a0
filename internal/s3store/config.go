package s3store

import (
	"fmt"
	"log/slog"
)

// Config says which store to talk to and as whom.
type Config struct {
	Region    string
	Endpoint  string // "" = AWS; e.g. http://127.0.0.1:7070 for S3-compatible stores
	PathStyle bool
	// AccessKeyID and SecretAccessKey are static credentials; both empty
	// means the standard AWS credential chain.
	AccessKeyID     string
	SecretAccessKey string
	// Write is what every write carries (ACL, encryption): a target
	// store's settings; a source store has none.
	Write WriteSettings
	// Observer, if set, is told of every request attempt of the load's
	// client (the start-up checks' client is not observed).
	Observer RequestObserver
}

const redacted = "[REDACTED]"

// String describes the config with the secret redacted.
func (c Config) String() string {
	secret := ""
	if c.SecretAccessKey != "" {
		secret = redacted
	}
	return fmt.Sprintf("s3store.Config{Region:%q Endpoint:%q PathStyle:%t AccessKeyID:%q SecretAccessKey:%q ACL:%q SSE:%q}",
		c.Region, c.Endpoint, c.PathStyle, c.AccessKeyID, secret, c.Write.ACL, c.Write.SSE)
}

// Format makes every fmt verb (%v, %+v, %#v, %s, %d...) print String, so
// the secret cannot leak through a formatted struct.
func (c Config) Format(f fmt.State, _ rune) { _, _ = fmt.Fprint(f, c.String()) }

// LogValue keeps the secret out of slog output.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("region", c.Region),
		slog.String("endpoint", c.Endpoint),
		slog.Bool("path_style", c.PathStyle),
		slog.String("access_key_id", c.AccessKeyID),
		slog.String("acl", c.Write.ACL),
		slog.String("sse", c.Write.SSE),
	)
}
