//go:build !linux

package versity

// takesXattrs: elsewhere the sidecar is the one layout known to work.
func takesXattrs(string) bool { return false }
