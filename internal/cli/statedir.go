package cli

import (
	"fmt"
	"os"
	"path/filepath"
)

// defaultStateDir is where `s3load run` keeps its embedded NATS storage for
// job: kept between runs, so that a load that was interrupted or did not
// commit is finished by the next run instead of starting over.
func defaultStateDir(job string) (string, error) {
	base := os.Getenv("XDG_STATE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("finding a state directory (set --state-dir): %w", err)
		}
		base = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(base, "s3load", job), nil
}

// lockStateDir makes dir and takes it for this process: two embedded NATS
// servers on one storage directory would corrupt it. A second run of the
// same job is told which process holds it.
func lockStateDir(dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating state directory: %w", err)
	}
	return lockFile(filepath.Join(dir, "lock"))
}
