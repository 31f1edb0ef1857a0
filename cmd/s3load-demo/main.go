// Command s3load-demo is `make demo`: it starts a local versitygw S3 server,
// fills a bucket with the generated demo data set, and runs `s3load run`
// against it (embedded NATS, local workers), printing the load report.
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

	tables := filepath.Join(outDir, "tables")
	cfgPath := filepath.Join(outDir, "load.yaml")
	if err := os.WriteFile(cfgPath, []byte(demo.Config(srv.Endpoint, bucket, "file://"+tables)), 0o644); err != nil {
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
		fmt.Printf("\ntables committed under %s; expected rows: orders %d, events %d, products %d\n",
			tables, ds.Rows["orders"], ds.Rows["events"], ds.Rows["products"])
		fmt.Printf("try: duckdb -c \"SELECT count(*) FROM read_parquet('%s/orders/*.parquet')\"\n", tables)
	}
	return code
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "s3load-demo:", err)
	return cli.ExitFailure
}
