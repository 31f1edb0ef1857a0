package target

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/messages"
)

func TestLocalErrClassifies(t *testing.T) {
	tests := []struct {
		errno           syscall.Errno
		space, writable bool
	}{
		{syscall.ENOSPC, true, false},
		{syscall.EDQUOT, true, false},
		{syscall.EROFS, false, true},
		{syscall.EACCES, false, true},
		{syscall.EPERM, false, true},
		{syscall.EIO, false, false},
	}
	for _, tt := range tests {
		err := localErr("writing part", "/data/t", &fs.PathError{Op: "write", Path: "/data/t/x", Err: tt.errno})
		if errors.Is(err, ErrNoSpace) != tt.space || errors.Is(err, ErrNotWritable) != tt.writable {
			t.Errorf("%v: %v", tt.errno, err)
		}
		if !errors.Is(err, tt.errno) || !strings.Contains(err.Error(), "/data/t") {
			t.Errorf("%v: %v does not keep the cause and the directory", tt.errno, err)
		}
	}
}

func TestStoreErrClassifies(t *testing.T) {
	tests := []struct {
		code            string
		space, writable bool
	}{
		{"AccessDenied", false, true},
		{"QuotaExceeded", true, false},
		{"InvalidAccessKeyId", false, false},
		{"InternalError", false, false},
	}
	for _, tt := range tests {
		err := storeErr("writing manifest", "s3://b/t", &smithy.GenericAPIError{Code: tt.code})
		if errors.Is(err, ErrNoSpace) != tt.space || errors.Is(err, ErrNotWritable) != tt.writable {
			t.Errorf("%s: %v", tt.code, err)
		}
	}
}

// fullDisk makes every file the local target creates a handle on
// /dev/full, whose writes fail with ENOSPC. The real file is created too,
// so names and clean-up behave as on a disk.
func fullDisk(t *testing.T, tg *Target) {
	t.Helper()
	tg.local.openFile = func(name string, flag int, perm os.FileMode) (*os.File, error) {
		f, err := os.OpenFile(name, flag, perm)
		if err != nil {
			return nil, err
		}
		_ = f.Close()
		return os.OpenFile("/dev/full", os.O_WRONLY, 0)
	}
}

func TestLocalFullDisk(t *testing.T) {
	root := t.TempDir()
	tg, _ := Open("file://"+root, nil)
	fullDisk(t, tg)
	ctx := context.Background()
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, ErrNoSpace) || !strings.Contains(err.Error(), root) || !strings.Contains(err.Error(), "free space") {
			t.Errorf("%s on a full disk: %v, want ErrNoSpace naming %s and the fix", what, err, root)
		}
	}
	part, err := tg.CreatePart(ctx, "t", "l")
	if err != nil {
		t.Fatal(err)
	}
	_, err = part.Write([]byte("PAR1"))
	check("writing a part", err)
	part.Abort()
	check("Check", tg.Check(ctx))
	_, err = tg.AcquireTable(ctx, "t", LeaseOwner{Job: "j", Load: "l"}, time.Minute)
	check("acquiring a lease", err)
	if names := dirNames(t, tg.local.loadDir("t", "l")); len(names) != 0 {
		t.Errorf("an aborted part left %v", names)
	}
}

// readOnlyDir returns a directory that refuses new files. Root ignores
// permission bits, so as root it is sysfs, which refuses them to anyone.
func readOnlyDir(t *testing.T) string {
	t.Helper()
	if os.Geteuid() == 0 {
		return "/sys"
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o755) })
	return dir
}

func TestLocalNotWritable(t *testing.T) {
	dir := readOnlyDir(t)
	tg, _ := Open("file://"+dir, nil)
	ctx := context.Background()
	err := tg.Check(ctx)
	if !errors.Is(err, ErrNotWritable) || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "permissions") {
		t.Errorf("Check of a read-only directory: %v, want ErrNotWritable naming %s and the fix", err, dir)
	}
	if _, err := tg.CreatePart(ctx, "t", "l"); !errors.Is(err, ErrNotWritable) {
		t.Errorf("CreatePart in a read-only directory: %v, want ErrNotWritable", err)
	}
}

func TestLocalCheck(t *testing.T) {
	root := filepath.Join(t.TempDir(), "new", "target")
	tg, _ := Open("file://"+root, nil)
	if err := tg.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	if names := dirNames(t, root); len(names) != 0 {
		t.Errorf("Check left %v", names)
	}
}

// A commit lists every part it cannot take, not only the first, so the
// coordinator can reload exactly their files.
func TestCommitListsEveryBadPart(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			tg := newTarget(t, kind)(t)
			ctx := context.Background()
			good := writePart(t, tg, "t", "l", src("t/good.csv"), 3)
			short := writePart(t, tg, "t", "l", src("t/short.csv"), 3)
			short.Bytes++
			rows := writePart(t, tg, "t", "l", src("t/rows.csv"), 3)
			rows.Rows = 4
			missing := good
			missing.Source = src("t/missing.csv")
			missing.Part = tg.PartPath("l", messages.PartName(missing.Source, nil))

			recs := []messages.FileRecord{good, short, missing, rows}
			want := map[string]string{short.Part: "bytes", missing.Part: "missing"}
			if kind == "local" {
				// An S3 commit checks sizes only: it reads no footers.
				want[rows.Part] = "rows"
			}
			_, err := tg.CommitManifest(ctx, coordinator.CommitRequest{Table: "t", LoadID: "l", Schema: encodedSchema(t), Loaded: recs})
			var pe *PartsError
			if !errors.As(err, &pe) {
				t.Fatalf("commit: %v, want a *PartsError", err)
			}
			got := map[string]string{}
			for _, p := range pe.Parts {
				got[p.Path] = p.Problem
			}
			if len(got) != len(want) {
				t.Errorf("PartsError lists %v, want %v", got, want)
			}
			for path, word := range want {
				if !strings.Contains(got[path], word) {
					t.Errorf("part %s: problem %q, want it to mention %q", path, got[path], word)
				}
				if !strings.Contains(err.Error(), path) {
					t.Errorf("message %q does not name %s", err, path)
				}
			}
			if _, err := tg.ReadManifest(ctx, "t"); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a failed commit committed: %v", err)
			}
		})
	}
}

func TestPartsErrorMessageIsBounded(t *testing.T) {
	e := &PartsError{Table: "t", Load: "l"}
	for i := range 50 {
		e.Parts = append(e.Parts, PartProblem{Path: fmt.Sprintf("p%d.parquet", i), Problem: "missing"})
	}
	msg := e.Error()
	if !strings.Contains(msg, "50 missing") || !strings.Contains(msg, "and 45 more") || strings.Contains(msg, "p5.parquet") {
		t.Errorf("message: %s", msg)
	}
}
