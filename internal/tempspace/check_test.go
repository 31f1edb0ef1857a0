package tempspace

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// Check passes in a directory that takes files, and leaves nothing there;
// it fails, naming the directory, where there is none.
func TestCheck(t *testing.T) {
	dir := t.TempDir()
	b := New(dir, 10)
	if err := b.Check(); err != nil {
		t.Fatalf("check of a writable directory: %v", err)
	}
	if left, err := os.ReadDir(dir); err != nil || len(left) != 0 || b.Used() != 0 {
		t.Errorf("after the check: %v %v in the directory, %d bytes used; want nothing", left, err, b.Used())
	}
	missing := filepath.Join(dir, "no-such-dir")
	err := New(missing, 0).Check()
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("check of a missing directory: %v, want not-exist", err)
	}
	if got := New(missing, 0).Dir(); got != missing {
		t.Errorf("Dir() = %q, want %q", got, missing)
	}
}
