package versity

import (
	"os"
	"syscall"
)

// takesXattrs says whether files under dir take user extended attributes,
// where versitygw keeps each object's metadata unless given a sidecar.
func takesXattrs(dir string) bool {
	f, err := os.CreateTemp(dir, ".xattr-probe-")
	if err != nil {
		return false
	}
	name := f.Name()
	f.Close()
	defer os.Remove(name)
	return syscall.Setxattr(name, "user.s3load-probe", []byte("1"), 0) == nil
}
