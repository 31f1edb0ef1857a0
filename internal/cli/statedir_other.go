//go:build !unix

package cli

// lockFile does nothing where flock is missing: one run per state
// directory is then up to the user.
func lockFile(string) (func(), error) { return func() {}, nil }
