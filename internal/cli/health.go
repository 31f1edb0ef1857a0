package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/s3load/s3load/internal/demo"
)

// endpoints are what one listener serves; each is off when nil.
type endpoints struct {
	check   func() (bool, string) // GET /healthz
	metrics http.Handler          // GET /metrics
	page    http.Handler          // the status page at /
}

func (e endpoints) String() string {
	var what []string
	if e.check != nil {
		what = append(what, "health checks")
	}
	if e.metrics != nil {
		what = append(what, "metrics")
	}
	if e.page != nil {
		what = append(what, "the status page")
	}
	return strings.Join(what, ", ")
}

// serveHTTP serves e on addr until ctx ends. /healthz answers 200 while
// check says the process can do its job and 503 while it cannot (NATS
// away, tasks cannot be pulled), with check's detail in the body: it is how
// a container runtime tells a live worker from a stuck one.
func serveHTTP(ctx context.Context, addr string, e endpoints) (execute func() error, interrupt func(error), err error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listening for %s on %s: %w", e, addr, err)
	}
	mux := http.NewServeMux()
	if e.metrics != nil {
		mux.Handle("GET /metrics", e.metrics)
	}
	if e.check != nil {
		mux.HandleFunc("GET /healthz", healthz(e.check))
	}
	if e.page != nil {
		mux.Handle("/", e.page)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	execute = func() error {
		if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
	interrupt = func(error) {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}
	return execute, interrupt, nil
}

// healthz is the /healthz handler of check.
func healthz(check func() (bool, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		ok, detail := check()
		if !ok {
			http.Error(w, detail, http.StatusServiceUnavailable)
			return
		}
		if detail != "" {
			fmt.Fprintln(w, "ok:", detail)
			return
		}
		fmt.Fprintln(w, "ok")
	}
}

// cmdHealth is `s3load health`: the image's health check, which has no
// shell or curl to call.
func cmdHealth(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("health", flag.ContinueOnError)
	url := fs.String("url", "http://127.0.0.1:8081/healthz", "health endpoint of a worker or coordinator")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return usageErr(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("checking %s: %w", *url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("unhealthy: %s: %s", resp.Status, body)
	}
	fmt.Fprint(stdout, string(body))
	return nil
}

// cmdDemoData is `s3load demo-data`: it fills a bucket with the demo data
// set, for docker compose and the end-to-end tests. Credentials come from
// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
func cmdDemoData(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo-data", flag.ContinueOnError)
	endpoint := fs.String("endpoint", "", "S3 endpoint URL; required")
	bucket := fs.String("bucket", "demo", "bucket to create and fill")
	region := fs.String("region", "us-east-1", "region")
	files := fs.Int("files", 12, "files per table (three tables)")
	rows := fs.Int("rows", 5000, "rows per file")
	seed := fs.Uint64("seed", 1, "data set seed: the same seed gives the same files")
	empty := fs.Bool("empty", false, "only create the bucket (a target for the demo's tables)")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if *endpoint == "" {
		return usageErr(errors.New("--endpoint is required"))
	}
	ds, err := demo.Build(*seed, *files, *rows)
	if err != nil {
		return err
	}
	if *empty {
		ds = demo.Dataset{Rows: map[string]int64{}}
	}
	st := demo.Store{Endpoint: *endpoint, Region: *region, Bucket: *bucket,
		AccessKeyID: os.Getenv("AWS_ACCESS_KEY_ID"), SecretKey: os.Getenv("AWS_SECRET_ACCESS_KEY")}
	// The S3 server may still be starting beside us (compose): retry a while.
	deadline := time.Now().Add(time.Minute)
	for {
		err = demo.Seed(ctx, st, ds)
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(time.Second)
	}
	if err != nil {
		return err
	}
	if *empty {
		fmt.Fprintf(stdout, "created s3://%s\n", *bucket)
		return nil
	}
	fmt.Fprintf(stdout, "seeded s3://%s with %d objects: rows orders=%d events=%d products=%d\n",
		*bucket, len(ds.Objects), ds.Rows["orders"], ds.Rows["events"], ds.Rows["products"])
	return nil
}
