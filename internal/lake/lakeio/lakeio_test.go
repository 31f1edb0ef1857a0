package lakeio

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/s3load/s3load/internal/s3store"
	"github.com/s3load/s3load/internal/testenv"
)

// kinds are the places every behaviour is tested on.
var kinds = []string{"local", "s3"}

// newRoot returns an FS and a directory name in it for kind.
func newRoot(t *testing.T, kind string) (*FS, string) {
	t.Helper()
	if kind == "local" {
		return New(nil), "file://" + t.TempDir()
	}
	srv := testenv.Versity(t)
	srv.CreateBucket(t, "lake")
	st, err := s3store.New(context.Background(), srv.Config())
	if err != nil {
		t.Fatal(err)
	}
	return New(st), "s3://lake/root"
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name               string
		local, bucket, key string
		bad                bool
	}{
		{name: "file:///tmp/w/t", local: "/tmp/w/t"},
		{name: "file://localhost/tmp/w", local: "/tmp/w"},
		{name: "file:///tmp/a%20b", local: "/tmp/a b"},
		{name: "/tmp/w/", local: "/tmp/w"},
		{name: "s3://b/p/k", bucket: "b", key: "p/k"},
		{name: "s3a://b/p/", bucket: "b", key: "p"},
		{name: "s3://b", bucket: "b"},
		{name: "relative/path", bad: true},
		{name: "file://host/tmp", bad: true},
		{name: "file:///tmp/x#y", bad: true},
		{name: "s3:///k", bad: true},
		{name: "gs://b/k", bad: true},
	} {
		l, err := parse(tc.name)
		if tc.bad {
			if !errors.Is(err, fs.ErrInvalid) {
				t.Errorf("parse(%q) = %+v, %v; want fs.ErrInvalid", tc.name, l, err)
			}
			continue
		}
		if err != nil || l.local != tc.local || l.bucket != tc.bucket || l.key != tc.key {
			t.Errorf("parse(%q) = %+v, %v", tc.name, l, err)
		}
	}
}

func TestFiles(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			f, root := newRoot(t, kind)
			o := f.IO(ctx)
			name := root + "/t/metadata/v1.metadata.json"

			if _, err := o.Open(name); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("opening a missing file: %v, want fs.ErrNotExist", err)
			}
			if _, err := o.ReadFile(name); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("reading a missing file: %v, want fs.ErrNotExist", err)
			}
			if _, err := f.ReadDir(ctx, root+"/t"); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("listing a missing directory: %v, want fs.ErrNotExist", err)
			}

			w, err := o.Create(root + "/t/data/a.parquet")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write([]byte("hello ")); err != nil {
				t.Fatal(err)
			}
			if _, err := w.ReadFrom(stringReader("world")); err != nil {
				t.Fatal(err)
			}
			if _, err := o.Open(root + "/t/data/a.parquet"); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a file being written is visible: %v", err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			file, err := o.Open(root + "/t/data/a.parquet")
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 5)
			if _, err := file.ReadAt(buf, 6); err != nil || string(buf) != "world" {
				t.Errorf("ReadAt: %q, %v", buf, err)
			}
			if st, err := file.Stat(); err != nil || st.Size() != 11 {
				t.Errorf("Stat: %v, %v", st, err)
			}
			_ = file.Close()

			if err := o.WriteFile(name, []byte("1")); err != nil {
				t.Fatal(err)
			}
			if err := o.WriteFile(name, []byte("2")); err != nil {
				t.Fatal(err)
			}
			if data, err := o.ReadFile(name); err != nil || string(data) != "2" {
				t.Errorf("after rewriting: %q, %v", data, err)
			}
			entries, err := f.ReadDir(ctx, root+"/t")
			want := []Entry{{Name: "data", Dir: true}, {Name: "metadata", Dir: true}}
			if err != nil || len(entries) != 2 || entries[0] != want[0] || entries[1] != want[1] {
				t.Errorf("ReadDir: %v, %v; want %v", entries, err, want)
			}

			if err := o.RemoveAll(root + "/t"); err != nil {
				t.Fatal(err)
			}
			if _, err := o.ReadFile(name); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("after RemoveAll: %v", err)
			}
		})
	}
}

type stringReader string

func (s stringReader) Read(p []byte) (int, error) {
	n := copy(p, s)
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// TestCreateExclusive: of writers racing for one name exactly one wins,
// the others get fs.ErrExist, and the file holds the winner's bytes whole.
func TestCreateExclusive(t *testing.T) {
	const writers = 8
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			f, root := newRoot(t, kind)
			name := root + "/t/metadata/v2.metadata.json"
			errs := make([]error, writers)
			var wg sync.WaitGroup
			for i := range writers {
				wg.Go(func() { errs[i] = f.CreateExclusive(ctx, name, []byte{byte('a' + i)}) })
			}
			wg.Wait()
			winner := -1
			for i, err := range errs {
				switch {
				case err == nil && winner >= 0:
					t.Fatalf("writers %d and %d both won", winner, i)
				case err == nil:
					winner = i
				case !errors.Is(err, fs.ErrExist):
					t.Errorf("writer %d: %v, want fs.ErrExist", i, err)
				}
			}
			if winner < 0 {
				t.Fatal("no writer won")
			}
			if data, err := f.ReadFile(ctx, name); err != nil || string(data) != string(rune('a'+winner)) {
				t.Errorf("file holds %q, %v; want the winner's %q", data, err, string(rune('a'+winner)))
			}
			entries, err := f.ReadDir(ctx, root+"/t/metadata")
			if err != nil || len(entries) != 1 {
				t.Errorf("metadata holds %v, %v; want the one file", entries, err)
			}
			if kind == "local" {
				l, _ := parse(root)
				left, _ := os.ReadDir(filepath.Join(l.local, "t", "metadata"))
				if len(left) != 1 {
					t.Errorf("temporary files left: %v", left)
				}
			}
		})
	}
}

func TestWalkDir(t *testing.T) {
	ctx := context.Background()
	f, root := newRoot(t, "local")
	for _, n := range []string{"/t/a", "/t/d/b"} {
		if err := f.WriteFile(ctx, root+n, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	var files []string
	err := f.IO(ctx).WalkDir(root+"/t", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if err != nil || len(files) != 2 || files[0] != root+"/t/a" || files[1] != root+"/t/d/b" {
		t.Errorf("walked %v, %v", files, err)
	}
	s3 := New(nil).IO(ctx)
	if err := s3.WalkDir("s3://b/t", nil); !errors.Is(err, ErrNoModTimes) {
		t.Errorf("walking S3: %v, want ErrNoModTimes", err)
	}
	if _, err := s3.ReadFile("s3://b/t"); !errors.Is(err, ErrNoStore) {
		t.Errorf("S3 without a store: %v, want ErrNoStore", err)
	}
}
