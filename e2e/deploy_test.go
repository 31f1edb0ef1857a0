//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	mobynet "github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/s3load/s3load/internal/natsq"
	"github.com/s3load/s3load/messages"
)

// options shape one case's deployment.
type options struct {
	natsNodes   int           // 1, or 3 for a cluster with replicas 3
	ackWait     time.Duration // nats.ack_wait of the load
	maxAttempts int           // retry.max_attempts
	viaProxy    bool          // S3 through the fault proxy (coordinator and workers alike)
	concurrency int           // slots per worker
	// batchFiles is batch.files; 0 means 1, one file per task: most cases
	// inject faults into files in hand and count them.
	batchFiles int
	// The tables are the demo's, Iceberg in the namespace demo, in the
	// shared directory; s3Target puts them in the lake bucket of the S3
	// server instead (straight to it, never through the fault proxy), and
	// plain makes them plain Parquet tables (table_format: parquet).
	s3Target bool
	plain    bool
}

// deployment is one case's fleet on its own network, laid out like
// compose.yaml: service names nats (nats-1..3 in a cluster), s3, s3proxy,
// one config file mounted read-only at /etc/s3load/load.yaml, a shared
// output directory.
type deployment struct {
	t    *testing.T
	ctx  context.Context
	opts options
	name string // prefix of this case's container names
	net  *testcontainers.DockerNetwork
	out  string // the target directory: the same path on the host and in containers
	lake warehouse
	cfg  string // the config file on the host

	nats        []*testcontainers.DockerContainer
	natsVolumes []string
	proxy       *testcontainers.DockerContainer
	coordinator *testcontainers.DockerContainer
	workers     map[string]*testcontainers.DockerContainer
	all         []*testcontainers.DockerContainer // every container, for logs and clean-up
	mu          sync.Mutex                        // guards all and workers while workers start together
}

const configPath = "/etc/s3load/load.yaml"

func newDeployment(t *testing.T, o options) *deployment {
	t.Helper()
	if o.natsNodes == 0 {
		o.natsNodes = 1
	}
	if o.ackWait == 0 {
		o.ackWait = 5 * time.Second
	}
	if o.maxAttempts == 0 {
		o.maxAttempts = 5
	}
	if o.concurrency == 0 {
		o.concurrency = 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	t.Cleanup(cancel)
	d := &deployment{
		t: t, ctx: ctx, opts: o,
		name:    suite.prefix + "-" + strings.ToLower(strings.TrimPrefix(t.Name(), "Test")),
		workers: map[string]*testcontainers.DockerContainer{},
	}
	nw, err := network.New(ctx)
	if err != nil {
		t.Fatalf("creating the case network: %v", err)
	}
	d.net = nw
	t.Cleanup(d.teardown)
	// The suite's S3 server joins this network as "s3".
	if _, err := suite.docker.NetworkConnect(ctx, nw.ID, client.NetworkConnectOptions{
		Container: suite.s3.GetContainerID(), EndpointConfig: &mobynet.EndpointSettings{Aliases: []string{"s3"}},
	}); err != nil {
		t.Fatalf("connecting the S3 server to the case network: %v", err)
	}

	dir := t.TempDir()
	d.out = filepath.Join(dir, "out")
	if err := os.Mkdir(d.out, 0o777); err != nil {
		t.Fatal(err)
	}
	// The image's user (not root) writes here; MkdirAll honours the umask.
	if err := os.Chmod(d.out, 0o777); err != nil {
		t.Fatal(err)
	}
	d.lake = localWarehouse(d.out)
	if o.s3Target {
		// The suite's S3 server is shared: each case has its own prefix.
		// Its host port is looked up again now: connecting a container to
		// another network can move its published ports (Docker 28 publishes
		// through the network that holds its default gateway).
		ep, err := hostEndpoint(d.ctx, suite.s3, "7070/tcp", "http")
		if err != nil {
			t.Fatalf("finding the S3 port: %v", err)
		}
		st, err := s3Client(d.ctx, ep, suite.s3Key, suite.s3Secret)
		if err != nil {
			t.Fatal(err)
		}
		d.lake = s3Warehouse(st, lakeBucket, d.name)
	}
	d.cfg = filepath.Join(dir, "load.yaml")
	if err := os.WriteFile(d.cfg, []byte(d.config()), 0o644); err != nil {
		t.Fatal(err)
	}
	d.startNATS()
	if o.viaProxy {
		d.startProxy()
	}
	return d
}

// config is the case's load config: the demo tables of the suite's bucket,
// credentials from the environment.
func (d *deployment) config() string {
	endpoint := "http://s3:7070"
	if d.opts.viaProxy {
		endpoint = "http://s3proxy:7070"
	}
	replicas := 1
	if d.opts.natsNodes > 1 {
		replicas = 3
	}
	target := fmt.Sprintf("target: file://%s\ntable_format: iceberg\nnamespace: %s\n", d.out, namespace)
	switch {
	case d.opts.plain:
		target = fmt.Sprintf("target: file://%s\ntable_format: parquet\n", d.out)
	case d.opts.s3Target:
		target = fmt.Sprintf(`target: %s
table_format: iceberg
namespace: %s
target_s3:
  region: us-east-1
  endpoint: http://s3:7070
  path_style: true
  access_key_id: ${E2E_S3_KEY}
  secret_access_key: ${E2E_S3_SECRET}
`, d.lake.root, namespace)
	}
	return fmt.Sprintf(`source:
  region: us-east-1
  bucket: %s
  endpoint: %s
  path_style: true
  access_key_id: ${E2E_S3_KEY}
  secret_access_key: ${E2E_S3_SECRET}
tables:
  - name: orders
    prefix: orders/
    glob: "**/*.csv.gz"
  - name: events
    prefix: events/
  - name: products
    prefix: products/
%snats:
  url: nats://nats:4222
  ack_wait: %s
  replicas: %d
retry: { max_attempts: %d, backoff: 200ms, max_backoff: 2s }
batch: { files: %d }
# A killed coordinator's restart waits for its lease to lapse: seconds here.
coordinator: { lease_ttl: 5s, check_interval: 2s }
`, bucket, endpoint, target, d.opts.ackWait, replicas, d.opts.maxAttempts, max(d.opts.batchFiles, 1))
}

func (d *deployment) teardown() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d.saveLogs(ctx)
	for _, c := range d.all {
		// A paused container cannot be stopped.
		_, _ = suite.docker.ContainerUnpause(ctx, c.GetContainerID(), client.ContainerUnpauseOptions{})
		if err := c.Terminate(ctx, testcontainers.StopTimeout(0)); err != nil {
			d.t.Logf("removing %s: %v", c.GetContainerID()[:12], err)
		}
	}
	for _, v := range d.natsVolumes {
		if _, err := suite.docker.VolumeRemove(ctx, v, client.VolumeRemoveOptions{Force: true}); err != nil {
			d.t.Logf("removing volume %s: %v", v, err)
		}
	}
	_, _ = suite.docker.NetworkDisconnect(ctx, d.net.ID, client.NetworkDisconnectOptions{Container: suite.s3.GetContainerID(), Force: true})
	if err := d.net.Remove(ctx); err != nil {
		d.t.Logf("removing the case network: %v", err)
	}
}

// saveLogs keeps every container's log under deploy/build/e2e-logs/<case>/,
// and prints the coordinator's on failure.
func (d *deployment) saveLogs(ctx context.Context) {
	dir := filepath.Join(suite.logDir, d.t.Name())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		d.t.Logf("saving logs: %v", err)
		return
	}
	for _, c := range d.all {
		name := containerName(ctx, c)
		logs := containerLogs(ctx, c)
		_ = os.WriteFile(filepath.Join(dir, name+".log"), []byte(logs), 0o644)
		if d.t.Failed() && c == d.coordinator {
			d.t.Logf("coordinator log (last 4 KiB):\n%s", tail(logs, 4096))
		}
	}
	d.t.Logf("container logs in %s", dir)
}

func containerName(ctx context.Context, c *testcontainers.DockerContainer) string {
	info, err := c.Inspect(ctx)
	if err != nil {
		return c.GetContainerID()[:12]
	}
	return strings.TrimPrefix(info.Name, "/")
}

func containerLogs(ctx context.Context, c *testcontainers.DockerContainer) string {
	rc, err := c.Logs(ctx)
	if err != nil {
		return fmt.Sprintf("(no logs: %v)", err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	return string(b)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// run starts a container on the case network and registers it for
// clean-up.
func (d *deployment) run(image, name string, aliases []string, opts ...testcontainers.ContainerCustomizer) *testcontainers.DockerContainer {
	d.t.Helper()
	c, err := d.runE(image, name, aliases, opts...)
	if err != nil {
		d.t.Fatalf("starting %s: %v", name, err)
	}
	return c
}

// runE is run for goroutines, which must not call t.Fatal.
func (d *deployment) runE(image, name string, aliases []string, opts ...testcontainers.ContainerCustomizer) (*testcontainers.DockerContainer, error) {
	opts = append([]testcontainers.ContainerCustomizer{
		testcontainers.WithName(d.name + "-" + name),
		network.WithNetwork(aliases, d.net),
	}, opts...)
	c, err := testcontainers.Run(d.ctx, image, opts...)
	if c != nil {
		d.mu.Lock()
		d.all = append(d.all, c)
		d.mu.Unlock()
	}
	return c, err
}

// startNATS starts one JetStream server, or a three-node cluster, with its
// store on a named volume, as compose.yaml does. Every node answers to the
// name "nats" as well, so clients find whichever nodes are up.
func (d *deployment) startNATS() {
	d.t.Helper()
	conf := "single.conf"
	if d.opts.natsNodes > 1 {
		conf = "cluster.conf"
	}
	confPath := filepath.Join(suite.root, "deploy", "nats", conf)
	for i := 1; i <= d.opts.natsNodes; i++ {
		name := "nats"
		aliases := []string{"nats"}
		if d.opts.natsNodes > 1 {
			name = fmt.Sprintf("nats-%d", i)
			aliases = append(aliases, name)
		}
		volume := d.name + "-" + name + "-data"
		d.natsVolumes = append(d.natsVolumes, volume)
		c := d.run(suite.images["NATS_IMAGE"], name, aliases,
			testcontainers.WithCmd("--config", "/etc/nats/nats.conf"),
			testcontainers.WithEnv(map[string]string{"NATS_SERVER_NAME": name}),
			testcontainers.WithMounts(testcontainers.VolumeMount(volume, "/data")),
			testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
				hc.Binds = append(hc.Binds, confPath+":/etc/nats/nats.conf:ro")
			}),
			testcontainers.WithExposedPorts("4222/tcp", "8222/tcp"),
			// A cluster node is healthy once it has JetStream quorum; the
			// nodes start together so that they can find it.
			testcontainers.WithWaitStrategy(natsReady()),
			withoutStart(d.opts.natsNodes > 1),
		)
		d.nats = append(d.nats, c)
	}
	if d.opts.natsNodes > 1 {
		errs := make(chan error, len(d.nats))
		for _, c := range d.nats {
			go func() { errs <- c.Start(d.ctx) }()
		}
		for range d.nats {
			if err := <-errs; err != nil {
				d.t.Fatalf("starting the NATS cluster: %v", err)
			}
		}
	}
}

func natsReady() wait.Strategy {
	return wait.ForHTTP("/healthz").WithPort("8222/tcp").WithStartupTimeout(90 * time.Second).
		WithPollInterval(200 * time.Millisecond)
}

// withoutStart creates the container but leaves starting it to the caller.
func withoutStart(yes bool) testcontainers.CustomizeRequestOption {
	if yes {
		return testcontainers.WithNoStart()
	}
	return func(*testcontainers.GenericContainerRequest) error { return nil }
}

// startProxy starts the fault proxy as "s3proxy", in front of "s3".
func (d *deployment) startProxy() {
	d.t.Helper()
	d.proxy = d.run(suite.images["FAULTPROXY_IMAGE"], "s3proxy", []string{"s3proxy"},
		testcontainers.WithCmd("--listen", ":7070", "--control", ":7071", "--upstream", "http://s3:7070"),
		testcontainers.WithEnv(map[string]string{
			"FAULTPROXY_ACCESS_KEY_ID": suite.s3Key, "FAULTPROXY_SECRET_ACCESS_KEY": suite.s3Secret}),
		testcontainers.WithExposedPorts("7071/tcp"),
		testcontainers.WithWaitStrategy(wait.ForHTTP("/stats").WithPort("7071/tcp").WithStartupTimeout(time.Minute)),
	)
}

// s3load runs the s3load image with the case's config and secrets.
func (d *deployment) s3load(name string, args ...string) (*testcontainers.DockerContainer, error) {
	opts := []testcontainers.ContainerCustomizer{
		testcontainers.WithCmd(append(args, "--config", configPath, "--health-addr", ":8081")...),
		testcontainers.WithEnv(map[string]string{"E2E_S3_KEY": suite.s3Key, "E2E_S3_SECRET": suite.s3Secret}),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.Binds = append(hc.Binds, d.cfg+":"+configPath+":ro", d.out+":"+d.out)
		}),
	}
	if uid := os.Getuid(); uid != 0 {
		// Outside CI (root) the tests run as a user who must be able to
		// delete what the containers write.
		opts = append(opts, testcontainers.WithConfigModifier(func(c *container.Config) {
			c.User = fmt.Sprintf("%d:%d", uid, os.Getgid())
		}))
	}
	if args[0] == "worker" {
		opts = append(opts, testcontainers.WithWaitStrategy(wait.ForLog("worker started").WithStartupTimeout(time.Minute)))
	}
	return d.runE(suite.images["S3LOAD_IMAGE"], name, nil, opts...)
}

// startCoordinator starts (or, after a kill, starts again) the coordinator.
func (d *deployment) startCoordinator() {
	d.t.Helper()
	if d.coordinator != nil {
		if err := d.coordinator.Start(d.ctx); err != nil {
			d.t.Fatalf("restarting the coordinator: %v", err)
		}
		return
	}
	c, err := d.s3load("coordinator", "coordinator")
	if err != nil {
		d.t.Fatalf("starting the coordinator: %v", err)
	}
	d.coordinator = c
}

// startWorkers starts workers with the given names (their records carry
// them), all at once, as `docker compose up --scale` does.
func (d *deployment) startWorkers(names ...string) {
	d.t.Helper()
	errs := make(chan error, len(names))
	for _, n := range names {
		go func() { // owned here: the loop below waits for each
			c, err := d.s3load(n, "worker", "--id", n, "--concurrency", fmt.Sprint(d.opts.concurrency), "--drain-timeout", "60s")
			if c != nil {
				d.mu.Lock()
				d.workers[n] = c
				d.mu.Unlock()
			}
			if err != nil {
				err = fmt.Errorf("starting worker %s: %w", n, err)
			}
			errs <- err
		}()
	}
	for range names {
		if err := <-errs; err != nil {
			d.t.Fatal(err)
		}
	}
}

// waitCoordinator waits for the coordinator to exit and returns its code.
func (d *deployment) waitCoordinator(timeout time.Duration) int {
	d.t.Helper()
	var code int
	waitFor(d.t, timeout, "the coordinator to finish the load", func() (bool, error) {
		st, err := d.coordinator.State(d.ctx)
		if err != nil {
			return false, err
		}
		code = st.ExitCode
		return st.Status == container.StateExited, nil
	})
	return code
}

// waitFor polls cond every 100 ms until it holds, fails, or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: not after %s", what, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// partsWritten counts the Parquet parts the load has written to the shared
// directory (the tables' data/<load>/ directories, or plain Parquet's
// staging directories): the load's progress, read without asking NATS
// (which may be down). Cases on an S3 target do not call it.
func (d *deployment) partsWritten() int {
	pattern := filepath.Join(d.out, namespace, "*", "data", "*", "*.parquet")
	if d.opts.plain {
		pattern = filepath.Join(d.out, ".s3load", "*", "*", "part-*.parquet")
	}
	parts, _ := filepath.Glob(pattern)
	return len(parts)
}

// waitProgress waits until at least frac of the files have a part.
func (d *deployment) waitProgress(frac float64) {
	d.t.Helper()
	want := int(frac * totalFiles)
	waitFor(d.t, 3*time.Minute, fmt.Sprintf("%d of %d parts", want, totalFiles), func() (bool, error) {
		if st, err := d.coordinator.State(d.ctx); err == nil && st.Status == container.StateExited {
			return false, fmt.Errorf("the coordinator exited (code %d) before the load reached %.0f%%", st.ExitCode, frac*100)
		}
		return d.partsWritten() >= want, nil
	})
}

// js connects the test itself to the case's NATS (through the mapped
// ports of the nodes that are running), to read the load's records.
func (d *deployment) js() (*nats.Conn, jetstream.JetStream) {
	d.t.Helper()
	var urls []string
	for _, c := range d.nats {
		if !c.IsRunning() {
			continue
		}
		ep, err := hostEndpoint(d.ctx, c, "4222/tcp", "nats")
		if err != nil {
			d.t.Fatalf("finding the NATS port: %v", err)
		}
		urls = append(urls, ep)
	}
	nc, err := nats.Connect(strings.Join(urls, ","), nats.Name("e2e-test"), nats.MaxReconnects(-1))
	if err != nil {
		d.t.Fatalf("connecting to NATS at %v: %v", urls, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		d.t.Fatal(err)
	}
	return nc, js
}

// fileRecords reads every file record of the load from the state bucket.
func fileRecords(ctx context.Context, js jetstream.JetStream) ([]messages.FileRecord, error) {
	kv, err := js.KeyValue(ctx, natsq.StateBucket)
	if err != nil {
		return nil, err
	}
	w, err := kv.Watch(ctx, "file.>", jetstream.IgnoreDeletes())
	if err != nil {
		return nil, err
	}
	defer w.Stop()
	var recs []messages.FileRecord
	for {
		select {
		case e := <-w.Updates():
			if e == nil { // the initial values are all in
				return recs, nil
			}
			rec, err := messages.Unmarshal[messages.FileRecord](e.Value())
			if err != nil {
				return nil, err
			}
			recs = append(recs, rec)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// inFlight are the files a worker has claimed and not yet recorded.
func inFlight(recs []messages.FileRecord, worker string) []messages.FileRecord {
	var out []messages.FileRecord
	for _, r := range recs {
		if r.Worker == worker && !r.State.Terminal() {
			out = append(out, r)
		}
	}
	return out
}

// proxyStats and setFaults talk to the fault proxy's control port.
func (d *deployment) proxyStats() (st struct {
	ObjectGets   int64 `json:"object_gets"`
	Slowdowns    int64 `json:"slowdowns"`
	HotThrottled int64 `json:"hot_throttled"`
	Resets       int64 `json:"resets"`
	Lists        int64 `json:"lists"`
	ListsPaged   int64 `json:"lists_paged"`
	Errors       int64 `json:"errors"`
}) {
	d.t.Helper()
	body := d.proxyCall(http.MethodGet, "/stats", nil)
	if err := json.Unmarshal(body, &st); err != nil {
		d.t.Fatalf("proxy stats: %v", err)
	}
	return st
}

func (d *deployment) setFaults(f map[string]any) {
	d.t.Helper()
	data, _ := json.Marshal(f)
	d.proxyCall(http.MethodPut, "/faults", data)
}

func (d *deployment) proxyCall(method, path string, body []byte) []byte {
	d.t.Helper()
	ep, err := hostEndpoint(d.ctx, d.proxy, "7071/tcp", "http")
	if err != nil {
		d.t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(d.ctx, method, ep+path, bytes.NewReader(body))
	if err != nil {
		d.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatalf("fault proxy %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		d.t.Fatalf("fault proxy %s %s: %s: %s", method, path, resp.Status, out)
	}
	return out
}

// kill sends SIGKILL, as `docker kill -s KILL` does, and waits for the
// container to be gone.
func (d *deployment) kill(c *testcontainers.DockerContainer) {
	d.t.Helper()
	if _, err := suite.docker.ContainerKill(d.ctx, c.GetContainerID(), client.ContainerKillOptions{Signal: "KILL"}); err != nil {
		d.t.Fatalf("killing %s: %v", containerName(d.ctx, c), err)
	}
	waitFor(d.t, 30*time.Second, "the killed container to stop", func() (bool, error) {
		st, err := c.State(d.ctx)
		return err == nil && !st.Running, err
	})
}

func (d *deployment) pause(c *testcontainers.DockerContainer) {
	d.t.Helper()
	if _, err := suite.docker.ContainerPause(d.ctx, c.GetContainerID(), client.ContainerPauseOptions{}); err != nil {
		d.t.Fatalf("pausing: %v", err)
	}
}

func (d *deployment) unpause(c *testcontainers.DockerContainer) {
	d.t.Helper()
	if _, err := suite.docker.ContainerUnpause(d.ctx, c.GetContainerID(), client.ContainerUnpauseOptions{}); err != nil {
		d.t.Fatalf("unpausing: %v", err)
	}
}

func pingOptions() client.PingOptions { return client.PingOptions{NegotiateAPIVersion: true} }
