//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/s3load/s3load/internal/demo"
	"github.com/s3load/s3load/internal/lake/lakecheck"
	"github.com/s3load/s3load/internal/s3store"
)

// The Iceberg side of the suite: where the cases' tables are and the
// verdict on them, read with lakecheck, the reader that shares no code
// with the iceberg-go that wrote them.
const (
	// lakeBucket is the target bucket of the cases that load to S3, on the
	// suite's S3 server beside the source bucket (which s3load only reads),
	// as compose.yaml's demo does.
	lakeBucket = "lake"
	// namespace is the demo's Iceberg namespace (deploy/demo-load.yaml).
	namespace = "demo"
)

var tableNames = []string{"orders", "events", "products"}

// warehouse is where a load's Iceberg tables are, and how the test reads
// and changes its files: a local directory (the target the containers
// share with the host) or a prefix of a bucket on an S3 server.
type warehouse struct {
	root string // file:///abs/dir or s3://bucket/prefix
	open lakecheck.Opener
	// list returns every file below a location, as locations.
	list func(ctx context.Context, location string) ([]string, error)
	// put and remove change a file, for spoiling a table on purpose.
	put    func(ctx context.Context, location string, data []byte) error
	remove func(ctx context.Context, location string) error
}

func localWarehouse(dir string) warehouse {
	path := func(location string) string { return strings.TrimPrefix(location, "file://") }
	return warehouse{
		root: "file://" + dir,
		open: lakecheck.LocalOpener(),
		list: func(_ context.Context, location string) ([]string, error) {
			var out []string
			err := filepath.WalkDir(path(location), func(p string, e fs.DirEntry, err error) error {
				if err == nil && !e.IsDir() {
					out = append(out, "file://"+p)
				}
				return err
			})
			return out, err
		},
		put: func(_ context.Context, location string, data []byte) error {
			return os.WriteFile(path(location), data, 0o644)
		},
		remove: func(_ context.Context, location string) error { return os.Remove(path(location)) },
	}
}

func s3Warehouse(st *s3store.Store, bucket, prefix string) warehouse {
	key := func(location string) string { return strings.TrimPrefix(location, "s3://"+bucket+"/") }
	return warehouse{
		root: "s3://" + bucket + "/" + prefix,
		open: lakecheck.S3Opener(st.Get),
		list: func(ctx context.Context, location string) ([]string, error) {
			objs, err := st.ListKeys(ctx, bucket, key(location)+"/")
			var out []string
			for _, o := range objs {
				out = append(out, "s3://"+bucket+"/"+o.Key)
			}
			return out, err
		},
		put: func(ctx context.Context, location string, data []byte) error {
			return st.Put(ctx, bucket, key(location), bytes.NewReader(data), int64(len(data)))
		},
		remove: func(ctx context.Context, location string) error { return st.Delete(ctx, bucket, key(location)) },
	}
}

// tableLocation is a table's location in the warehouse.
func (w warehouse) tableLocation(table string) string {
	return w.root + "/" + namespace + "/" + table
}

// s3Client is the test's own client of an S3 server the suite started, at
// a port mapped to the test's host.
func s3Client(ctx context.Context, endpoint, key, secret string) (*s3store.Store, error) {
	st, err := s3store.New(ctx, s3store.Config{
		Region: "us-east-1", Endpoint: endpoint, PathStyle: true, AccessKeyID: key, SecretAccessKey: secret,
	})
	if err != nil {
		return nil, fmt.Errorf("opening an S3 client of %s: %w", endpoint, err)
	}
	return st, nil
}

// createLakeBucket makes the target bucket on the suite's S3 server, as
// compose's lake job does; the demo seeder with nothing to upload creates
// just the bucket.
func createLakeBucket(ctx context.Context, endpoint string) error {
	st := demo.Store{Endpoint: endpoint, Region: "us-east-1", AccessKeyID: suite.s3Key, SecretKey: suite.s3Secret, Bucket: lakeBucket}
	if err := demo.Seed(ctx, st, demo.Dataset{}); err != nil {
		return fmt.Errorf("creating the %s bucket: %w", lakeBucket, err)
	}
	return nil
}

// committed is what a load's report says of a table: "<table>: snapshot
// <id>, metadata <location>".
type committed struct {
	snapshot int64
	metadata string
}

var reportLine = regexp.MustCompile(`(?m)\b(orders|events|products): snapshot (-?\d+), metadata (\S+)`)

// reportedSnapshots reads the snapshot lines of a coordinator's output
// (the last of each table wins: a restarted coordinator reports again).
func reportedSnapshots(out string) map[string]committed {
	got := map[string]committed{}
	for _, m := range reportLine.FindAllStringSubmatch(out, -1) {
		id, err := strconv.ParseInt(m[2], 10, 64)
		if err == nil {
			got[m[1]] = committed{snapshot: id, metadata: m[3]}
		}
	}
	return got
}

// checkLake returns every way the Iceberg tables in w differ from the data
// set; none means the load is exact: each table's current snapshot holds
// every row of the data set once (the count, sum, minimum and maximum of
// its id column are those of 0..n-1, no id null), names every source file
// loaded and none failed, is the snapshot the report named (when reported
// is not nil), and the table's data directory holds exactly the snapshot's
// data files (no part of the load left out of it, none of another load).
// Notes are what is not wrong but worth a look: temporaries that killed
// workers left in a local data directory, which an Iceberg commit does not
// remove (a plain Parquet commit does).
func checkLake(ctx context.Context, w warehouse, reported map[string]committed) (problems, notes []string) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	errorf := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	notef := func(format string, args ...any) { notes = append(notes, fmt.Sprintf(format, args...)) }
	files := sourceFiles()
	for _, table := range tableNames {
		loc := w.tableLocation(table)
		t, err := lakecheck.ReadTable(ctx, w.open, loc)
		if err != nil {
			errorf("%s: not readable as an Iceberg table at %s: %v", table, loc, err)
			continue
		}
		if t.SnapshotID == 0 {
			errorf("%s: the table has no snapshot", table)
			continue
		}
		n := int64(len(files[table]) * rowsPerFile)
		if t.Rows != n {
			errorf("%s: the snapshot holds %d rows, want %d", table, t.Rows, n)
		}
		if got, want := t.Summary["s3load.files"], strconv.Itoa(len(files[table])); got != want {
			errorf("%s: the snapshot's summary says %q files loaded, want %s", table, got, want)
		}
		if got := t.Summary["s3load.failed-files"]; got != "0" {
			errorf("%s: the snapshot's summary says %q files failed, want 0", table, got)
		}
		id := t.Columns[idColumn[table]]
		switch {
		case id == nil:
			errorf("%s: no column %s", table, idColumn[table])
		case id.Count != n || id.Nulls != 0:
			errorf("%s: %d non-null %s values and %d nulls, want %d and none", table, id.Count, idColumn[table], id.Nulls, n)
		case id.Sum != float64(n*(n-1)/2) || id.Min != int64(0) || id.Max != n-1:
			// With the count right, a row twice and another lost shows here.
			errorf("%s: %s sums to %.0f over [%v, %v], want %d over [0, %d]: rows lost or doubled",
				table, idColumn[table], id.Sum, id.Min, id.Max, n*(n-1)/2, n-1)
		}
		if reported != nil {
			r, ok := reported[table]
			switch {
			case !ok:
				errorf("%s: the report names no snapshot", table)
			case r.snapshot != t.SnapshotID || r.metadata != t.MetadataLocation:
				errorf("%s: the report names snapshot %d in %s, the table's current is %d in %s",
					table, r.snapshot, r.metadata, t.SnapshotID, t.MetadataLocation)
			}
		}
		checkDataFiles(ctx, w, table, t, errorf, notef)
	}
	return problems, notes
}

// checkDataFiles compares the table's data directory with its snapshot's
// data and delete files; the load's lease is s3load's own.
func checkDataFiles(ctx context.Context, w warehouse, table string, t *lakecheck.Table, errorf, notef func(string, ...any)) {
	// A local file's location may be written file:///a/b or /a/b.
	norm := func(location string) string { return strings.TrimPrefix(location, "file://") }
	dataDir := w.tableLocation(table) + "/data"
	listed, err := w.list(ctx, dataDir)
	if err != nil {
		errorf("%s: listing %s: %v", table, dataDir, err)
		return
	}
	live := map[string]bool{}
	// Position delete files (a repeated load's masks) live beside the parts.
	for _, df := range append(slices.Clone(t.DataFiles), t.DeleteFiles...) {
		if live[norm(df.Path)] {
			errorf("%s: the snapshot lists %s twice", table, df.Path)
		}
		live[norm(df.Path)] = true
	}
	var extra, temps []string
	for _, f := range listed {
		f = norm(f)
		rel := strings.TrimPrefix(f, norm(dataDir)+"/")
		switch {
		case strings.HasPrefix(rel, "_lease"):
		case strings.HasPrefix(path.Base(rel), ".tmp-"):
			temps = append(temps, rel)
		case !live[f]:
			extra = append(extra, rel)
		}
		delete(live, f)
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		errorf("%s: the data directory holds %d files the snapshot does not list: %v", table, len(extra), extra)
	}
	if len(temps) > 0 {
		notef("%s: the data directory holds %d temporaries the commit left: %v", table, len(temps), temps)
	}
	for f := range live {
		errorf("%s: the snapshot's data file %s is not in the data directory", table, f)
	}
}

// sourceFiles are each table's data files in the source bucket (markers
// are skipped by the load).
func sourceFiles() map[string]map[string]bool {
	expected := map[string]map[string]bool{}
	for _, o := range suite.data.Objects {
		table, _, _ := strings.Cut(o.Key, "/")
		if len(o.Data) == 0 || strings.HasSuffix(o.Key, "_SUCCESS") || strings.HasSuffix(o.Key, ".crc") {
			continue
		}
		if expected[table] == nil {
			expected[table] = map[string]bool{}
		}
		expected[table][o.Key] = true
	}
	return expected
}

// checkTheLakeChecker spoils a committed Iceberg table the ways a faulty
// load would, a data file written twice (once outside the snapshot) and a
// data file lost, and makes sure the verdict every case relies on notices
// each.
func checkTheLakeChecker(ctx context.Context, w warehouse) []string {
	var failures []string
	t, err := lakecheck.ReadTable(ctx, w.open, w.tableLocation("orders"))
	if err != nil || len(t.DataFiles) == 0 {
		return []string{fmt.Sprintf("reading orders to spoil it: %v", err)}
	}
	part := t.DataFiles[0].Path
	body, err := w.open(ctx, part)
	if err != nil {
		return []string{err.Error()}
	}
	dup := part[:strings.LastIndex(part, "/")] + "/part-duplicate.parquet"
	if err := w.put(ctx, dup, body); err != nil {
		return []string{err.Error()}
	}
	if p, _ := checkLake(ctx, w, nil); !hasProblem(p, "does not list: [") {
		failures = append(failures, fmt.Sprintf("the checker missed a data file outside the snapshot: %q", p))
	}
	if err := w.remove(ctx, dup); err != nil {
		return append(failures, err.Error())
	}
	if err := w.remove(ctx, part); err != nil {
		return append(failures, err.Error())
	}
	if p, _ := checkLake(ctx, w, nil); !hasProblem(p, "orders: not readable") {
		failures = append(failures, fmt.Sprintf("the checker missed a lost data file: %q", p))
	}
	return failures
}
