package target

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Another user must be able to read the tables: parts, manifests and the
// lease are 0644 and directories 0755, less the umask.
func TestLocalOutputIsReadable(t *testing.T) {
	for _, umask := range []int{0o022, 0o027} {
		old := syscall.Umask(umask)
		t.Cleanup(func() { syscall.Umask(old) })
		root := t.TempDir()
		tg, _ := Open("file://"+root, nil)
		ctx := context.Background()
		if _, err := tg.AcquireTable(ctx, "t", LeaseOwner{Job: "j", Load: "l", Holder: "h"}, time.Minute); err != nil {
			t.Fatal(err)
		}
		commitLoad(t, tg, "t", "l", writePart(t, tg, "t", "l", src("t/a.csv"), 3))
		syscall.Umask(old)

		wantFile := fs.FileMode(0o644 &^ umask)
		wantDir := fs.FileMode(0o755&^umask) | fs.ModeDir
		err := filepath.WalkDir(filepath.Join(root, stagingDir), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			st, err := os.Stat(p)
			if err != nil {
				return err
			}
			want := wantFile
			if d.IsDir() {
				want = wantDir
			}
			if st.Mode() != want {
				t.Errorf("umask %03o: %s is %v, want %v", umask, p, st.Mode(), want)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
