// Command s3load-demo is `make demo`: it starts a local versitygw S3 server,
// fills a bucket with the generated demo data set, and runs `s3load run`
// against it (embedded NATS, local workers), printing the load report. The
// tables are Apache Iceberg tables in a local warehouse directory, in the
// namespace "demo"; it ends by saying how to query them.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/s3load/s3load/internal/cli"
	"github.com/s3load/s3load/internal/demo"
	"github.com/s3load/s3load/internal/versity"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx)
	stop()
	os.Exit(code)
}

func run(ctx context.Context) int {
	bin := flag.String("versitygw", "bin/versitygw", "versitygw binary")
	out := flag.String("out", "demo-out", "directory for the S3 server's data and the loaded tables")
	files := flag.Int("files", 12, "files per table")
	rows := flag.Int("rows", 5000, "rows per file")
	flag.Parse()

	outDir, err := filepath.Abs(*out)
	if err != nil {
		return fail(err)
	}
	if err := os.RemoveAll(filepath.Join(outDir, "s3")); err != nil {
		return fail(err)
	}
	srv, err := versity.Start(ctx, versity.Options{Binary: *bin, Dir: filepath.Join(outDir, "s3")})
	if err != nil {
		return fail(err)
	}
	defer srv.Stop()
	fmt.Printf("versitygw serving %s (data in %s)\n", srv.Endpoint, srv.Dir)

	ds, err := demo.Build(1, *files, *rows)
	if err != nil {
		return fail(err)
	}
	const bucket = "demo"
	st := demo.Store{Endpoint: srv.Endpoint, Region: srv.Region, AccessKeyID: srv.AccessKeyID, SecretKey: srv.SecretAccessKey, Bucket: bucket}
	if err := demo.Seed(ctx, st, ds); err != nil {
		return fail(err)
	}
	fmt.Printf("uploaded %d objects to s3://%s\n", len(ds.Objects), bucket)

	// A fresh warehouse each run: the new tables' first snapshots, not a
	// snapshot of tables another run (or another layout) left there.
	tables := filepath.Join(outDir, "tables")
	if err := os.RemoveAll(tables); err != nil {
		return fail(err)
	}
	cfgPath := filepath.Join(outDir, "load.yaml")
	cfg := demo.Config(srv.Endpoint, bucket, "file://"+tables) + icebergSettings
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return fail(err)
	}
	os.Setenv("S3LOAD_DEMO_KEY", srv.AccessKeyID)
	os.Setenv("S3LOAD_DEMO_SECRET", srv.SecretAccessKey)
	fmt.Printf("running: s3load run --config %s\n\n", cfgPath)
	// The demo's NATS state stays beside its data, not in the user's state
	// directory: each demo run is a new server on a new port, a new job.
	state := filepath.Join(outDir, "state")
	if err := os.RemoveAll(state); err != nil {
		return fail(err)
	}
	code := cli.Main(ctx, []string{"run", "--config", cfgPath, "--state-dir", state, "--log-level", "warn"}, os.Stdout, os.Stderr)
	if code == cli.ExitOK {
		printTables(tables, ds)
	}
	return code
}

// icebergSettings make the demo's tables Iceberg tables (the default,
// said for the reader of load.yaml) in the namespace demo.
const (
	namespace       = "demo"
	icebergSettings = "table_format: iceberg\nnamespace: " + namespace + "\n"
)

// printTables says where the Iceberg tables are and how to read them.
func printTables(warehouse string, ds demo.Dataset) {
	fmt.Printf("\nIceberg tables committed in the warehouse %s (namespace %s):\n", warehouse, namespace)
	for _, t := range []string{"orders", "events", "products"} {
		fmt.Printf("  %s.%-8s  %s  (%d rows expected)\n", namespace, t, filepath.Join(warehouse, namespace, t), ds.Rows[t])
	}
	fmt.Printf("try: duckdb -c \"INSTALL iceberg; LOAD iceberg; SELECT count(*) FROM iceberg_scan('%s')\"\n",
		filepath.Join(warehouse, namespace, "orders"))
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "s3load-demo:", err)
	return cli.ExitFailure
}
