//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/s3load/s3load/internal/demo"
)

// The data set every case loads: the demo's three tables (orders CSV.gz,
// events JSON lines .zst, products Parquet), filesPerTable files each of
// rowsPerFile rows, ids 0..filesPerTable*rowsPerFile-1 in every table.
const (
	filesPerTable = 170
	rowsPerFile   = 200
	dataSeed      = 7
	bucket        = "e2e"
	totalFiles    = 3 * filesPerTable
)

// idColumn is each table's unique row id.
var idColumn = map[string]string{"orders": "order_id", "events": "event_id", "products": "product_id"}

// suite is what every case shares: the images, the Docker client, the
// seeded S3 server and the data set it holds.
var suite struct {
	root      string // the module root
	images    map[string]string
	docker    *testcontainers.DockerClient
	prefix    string // names every container and network of this run
	s3        *testcontainers.DockerContainer
	s3Key     string
	s3Secret  string
	data      demo.Dataset
	logDir    string
	mu        sync.Mutex
	summaries []string
}

func TestMain(m *testing.M) {
	// Ryuk, the reaper, is an image we cannot pull; each test removes what
	// it started instead.
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	// testcontainers takes a test process that runs in a container (as here,
	// where /.dockerenv exists) for one beside the engine, and reaches
	// mapped ports through the default gateway. When the engine's own
	// bridge is on this host, the engine runs here and publishes ports on
	// localhost.
	if _, set := os.LookupEnv("TESTCONTAINERS_HOST_OVERRIDE"); !set {
		if _, err := net.InterfaceByName("docker0"); err == nil {
			os.Setenv("TESTCONTAINERS_HOST_OVERRIDE", "localhost")
		}
	}
	tclog.SetDefault(tclog.NewNoopLogger())
	code, err := runSuite(m)
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: e2e: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func runSuite(m *testing.M) (code int, err error) {
	started := time.Now()
	ctx := context.Background()
	if suite.root, err = moduleRoot(); err != nil {
		return 1, err
	}
	// No Docker is a failure, not a skip: CI must not go green without
	// having run these.
	suite.docker, err = testcontainers.NewDockerClientWithOpts(ctx)
	if err == nil {
		_, err = suite.docker.Ping(ctx, pingOptions())
	}
	if err != nil {
		return 1, fmt.Errorf("a Docker engine is required for the end-to-end tests and none answered: %w", err)
	}
	build := time.Now()
	if err := buildImages(); err != nil {
		return 1, err
	}
	fmt.Printf("e2e: images built in %s\n", time.Since(build).Round(100*time.Millisecond))
	if suite.images, err = readImages(); err != nil {
		return 1, err
	}
	suite.prefix = "s3load-e2e-" + randomHex(3)
	suite.s3Key, suite.s3Secret = "E2E"+randomHex(8), randomHex(20)
	suite.logDir = filepath.Join(suite.root, "deploy", "build", "e2e-logs")
	_ = os.RemoveAll(suite.logDir)
	if suite.data, err = demo.Build(dataSeed, filesPerTable, rowsPerFile); err != nil {
		return 1, err
	}

	seedStart := time.Now()
	cleanup, err := startS3(ctx)
	defer cleanup()
	if err != nil {
		return 1, err
	}
	fmt.Printf("e2e: S3 server seeded with %d files (%d per table, %d rows each) in %s\n",
		totalFiles, filesPerTable, rowsPerFile, time.Since(seedStart).Round(100*time.Millisecond))

	code = m.Run()

	fmt.Println("e2e summary (wall time of each case, coordinator start to exit):")
	for _, s := range suite.summaries {
		fmt.Println("  " + s)
	}
	fmt.Printf("e2e: whole suite %s; container logs in %s\n", time.Since(started).Round(time.Second), suite.logDir)
	return code, nil
}

// buildImages runs `make images e2e-images`: once per run, and quick when
// nothing changed (Go's build cache, Docker's layer cache).
func buildImages() error {
	cmd := exec.Command("make", "-s", "images", "e2e-images")
	cmd.Dir = suite.root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building the images (make images e2e-images): %w\n%s", err, out.String())
	}
	return nil
}

// readImages reads the tags `make images` wrote.
func readImages() (map[string]string, error) {
	images := map[string]string{}
	for _, f := range []string{"images.env", "faultproxy.env"} {
		data, err := os.ReadFile(filepath.Join(suite.root, "deploy", "build", f))
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), "="); ok && !strings.HasPrefix(k, "#") {
				images[k] = v
			}
		}
	}
	for _, k := range []string{"S3LOAD_IMAGE", "NATS_IMAGE", "VERSITYGW_IMAGE", "FAULTPROXY_IMAGE"} {
		if images[k] == "" {
			return nil, fmt.Errorf("make images did not name %s", k)
		}
	}
	return images, nil
}

// startS3 starts the suite's versitygw on its own network and fills the
// bucket with `s3load demo-data`, as compose's seed job does, and creates
// the target bucket of the cases that load to S3, as its lake job does.
// Each case connects the server to its own network.
func startS3(ctx context.Context) (cleanup func(), err error) {
	var undo []func()
	cleanup = func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	nw, err := network.New(ctx)
	if err != nil {
		return cleanup, fmt.Errorf("creating the suite network: %w", err)
	}
	undo = append(undo, func() { _ = nw.Remove(context.Background()) })
	s3, err := testcontainers.Run(ctx, suite.images["VERSITYGW_IMAGE"],
		testcontainers.WithName(suite.prefix+"-s3"),
		network.WithNetwork([]string{"s3"}, nw),
		testcontainers.WithEnv(map[string]string{"ROOT_ACCESS_KEY_ID": suite.s3Key, "ROOT_SECRET_ACCESS_KEY": suite.s3Secret}),
		testcontainers.WithCmd("--port", ":7070", "--quiet", "posix", "--sidecar", "/meta", "/data"),
		testcontainers.WithExposedPorts("7070/tcp"),
		// Any answer means it serves; unsigned requests get 403.
		testcontainers.WithWaitStrategy(wait.ForHTTP("/").WithPort("7070/tcp").
			WithStatusCodeMatcher(func(int) bool { return true }).WithStartupTimeout(time.Minute)),
	)
	if s3 != nil {
		undo = append(undo, func() { _ = s3.Terminate(context.Background()) })
	}
	if err != nil {
		return cleanup, fmt.Errorf("starting versitygw: %w", err)
	}
	suite.s3 = s3
	seed, err := testcontainers.Run(ctx, suite.images["S3LOAD_IMAGE"],
		testcontainers.WithName(suite.prefix+"-seed"),
		network.WithNetwork(nil, nw),
		testcontainers.WithEnv(map[string]string{"AWS_ACCESS_KEY_ID": suite.s3Key, "AWS_SECRET_ACCESS_KEY": suite.s3Secret}),
		testcontainers.WithCmd("demo-data", "--endpoint", "http://s3:7070", "--bucket", bucket,
			"--files", fmt.Sprint(filesPerTable), "--rows", fmt.Sprint(rowsPerFile), "--seed", fmt.Sprint(dataSeed)),
		testcontainers.WithWaitStrategy(wait.ForExit().WithExitTimeout(3*time.Minute)),
	)
	if seed != nil {
		undo = append(undo, func() { _ = seed.Terminate(context.Background()) })
	}
	if err != nil {
		return cleanup, fmt.Errorf("seeding the bucket: %w", err)
	}
	st, err := seed.State(ctx)
	if err != nil {
		return cleanup, err
	}
	if st.ExitCode != 0 {
		return cleanup, fmt.Errorf("s3load demo-data exited %d:\n%s", st.ExitCode, containerLogs(ctx, seed))
	}
	endpoint, err := hostEndpoint(ctx, s3, "7070/tcp", "http")
	if err != nil {
		return cleanup, fmt.Errorf("finding the S3 port: %w", err)
	}
	if err := createLakeBucket(ctx, endpoint); err != nil {
		return cleanup, err
	}
	return cleanup, nil
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// report records one case's figures for the summary TestMain prints.
func report(t *testing.T, format string, args ...any) {
	t.Helper()
	line := fmt.Sprintf("%-32s ", t.Name()) + fmt.Sprintf(format, args...)
	t.Log(line)
	suite.mu.Lock()
	suite.summaries = append(suite.summaries, line)
	suite.mu.Unlock()
}

// hostEndpoint is scheme://127.0.0.1:<port> where the engine publishes the
// container's port on IPv4. testcontainers' PortEndpoint takes the first
// binding, and an engine that publishes IPv4 and IPv6 on different host
// ports (Docker 28) may list the IPv6 one first: localhost resolved to
// 127.0.0.1 then meets nothing listening, now and then.
func hostEndpoint(ctx context.Context, c testcontainers.Container, port, scheme string) (string, error) {
	info, err := c.Inspect(ctx)
	if err != nil {
		return "", fmt.Errorf("inspecting the container: %w", err)
	}
	for p, bindings := range info.NetworkSettings.Ports {
		if p.String() != port {
			continue
		}
		for _, b := range bindings {
			if ip := b.HostIP.String(); ip == "" || ip == "0.0.0.0" || ip == "invalid IP" || strings.Count(ip, ".") == 3 {
				return fmt.Sprintf("%s://127.0.0.1:%s", scheme, b.HostPort), nil
			}
		}
	}
	return c.PortEndpoint(ctx, port, scheme) // no IPv4 binding listed: as testcontainers finds it
}
