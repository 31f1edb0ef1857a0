package target

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"path"
	"strings"
	"testing"

	"github.com/s3load/s3load/messages"
)

func TestReadPart(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			tg := newTarget(t, kind)(t)
			ctx := context.Background()
			meta := map[string]string{"s3load.files": "t/a.csv", "s3load.etag": "1"}
			rec := writePartWith(t, tg, "t", "l", src("t/a.csv"), 7, meta)
			name := path.Base(rec.Part)
			info, err := tg.ReadPart(ctx, "t", "l", name)
			if err != nil {
				t.Fatal(err)
			}
			if info.Size != rec.Bytes || info.Rows != 7 {
				t.Errorf("ReadPart = size %d rows %d, want %d and 7", info.Size, info.Rows, rec.Bytes)
			}
			for k, v := range meta {
				if info.Metadata[k] != v {
					t.Errorf("footer metadata %q = %q, want %q (all: %v)", k, info.Metadata[k], v, info.Metadata)
				}
			}

			// A footer bigger than the first ranged read.
			big := map[string]string{"big": strings.Repeat("x", 3*footerReadSize)}
			rec = writePartWith(t, tg, "t", "l", src("t/big.csv"), 2, big)
			info, err = tg.ReadPart(ctx, "t", "l", path.Base(rec.Part))
			if err != nil || info.Rows != 2 || info.Metadata["big"] != big["big"] || info.Size != rec.Bytes {
				t.Errorf("ReadPart of a part with a big footer: rows %d, size %d, %d metadata bytes, %v", info.Rows, info.Size, len(info.Metadata["big"]), err)
			}

			missing := messages.PartName(src("t/missing.csv"), nil)
			if _, err := tg.ReadPart(ctx, "t", "l", missing); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("ReadPart of a missing part: %v, want fs.ErrNotExist", err)
			}
			if _, err := tg.ReadPart(ctx, "t", "l", "../../x"); err == nil {
				t.Errorf("ReadPart outside the load: no error")
			}

			part, err := tg.CreatePart(ctx, "t", "l")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := part.Write([]byte("not a parquet file at all")); err != nil {
				t.Fatal(err)
			}
			if _, err := part.Commit(ctx, "junk.parquet"); err != nil {
				t.Fatal(err)
			}
			if _, err := tg.ReadPart(ctx, "t", "l", "junk.parquet"); err == nil || !strings.Contains(err.Error(), "junk.parquet") {
				t.Errorf("ReadPart of a file that is not Parquet: %v, want an error naming it", err)
			}
		})
	}
}

// On S3 ReadPart reads the footer with ranged GETs only: one for a footer
// of usual size.
func TestS3ReadPartRequests(t *testing.T) {
	e := newS3Env(t)
	tg, _ := Open("s3://"+dstBucket+"/tables", e.st)
	rec := writePart(t, tg, "t", "l", src("t/a.csv"), 7)
	mark := len(e.srv.AccessLog(t))
	if _, err := tg.ReadPart(context.Background(), "t", "l", path.Base(rec.Part)); err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, en := range e.srv.AccessLog(t)[mark:] {
		ops = append(ops, en.Operation)
	}
	if len(ops) != 1 || ops[0] != "GetObject" {
		t.Errorf("ReadPart made requests %v, want one GetObject", ops)
	}
}

func TestFooterBytes(t *testing.T) {
	footer := []byte("thrift")
	file := append(append([]byte("PAR1data"), footer...), 6, 0, 0, 0, 'P', 'A', 'R', '1')
	got, err := footerBytes(file, int64(len(file)))
	if err != nil || !bytes.Equal(got, footer) {
		t.Errorf("footerBytes = %q, %v", got, err)
	}
	if _, err := footerBytes(file[len(file)-9:], int64(len(file))); !errors.Is(err, errFooterBeyondTail) {
		t.Errorf("a tail short of the footer: %v, want errFooterBeyondTail", err)
	}
	for _, bad := range [][]byte{[]byte("PAR1"), append([]byte("PAR1data"), 99, 0, 0, 0, 'P', 'A', 'R', '1'), []byte("PAR1data0000PARE"), []byte("hello world, not parquet")} {
		if _, err := footerBytes(bad, int64(len(bad))); err == nil {
			t.Errorf("footerBytes(%q): no error", bad)
		}
	}
}
