package soak

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/s3load/s3load/internal/testenv"
)

// natsServerEnv names the environment variable that points at the
// nats-server binary; `make tools` builds it into bin/.
const natsServerEnv = "S3LOAD_NATS_SERVER"

// natsReadyTimeout bounds a start, JetStream's recovery of its streams
// after a SIGKILL included.
const natsReadyTimeout = 30 * time.Second

// natsServer is a nats-server process with JetStream on a directory that
// outlives it: killed and started again, it comes back on the same port
// with the same streams, as a restarted server of a deployment does.
type natsServer struct {
	bin, storeDir, logDir string
	port, monitorPort     int
	// exits gets a server that exited on its own (not killed, not stopped).
	exits    chan *process
	stopping atomic.Bool

	starts int
	proc   *process
}

// natsServerBinary finds nats-server: $S3LOAD_NATS_SERVER, else
// bin/nats-server in the module. Without it the soak fails: a soak that
// skips proves nothing.
func natsServerBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv(natsServerEnv); p != "" {
		if isExecutable(p) {
			return p
		}
		t.Fatalf("nats-server not found: run `make tools` (%s=%s is not an executable file)", natsServerEnv, p)
	}
	if p := filepath.Join(testenv.ModuleRoot(t), "bin", "nats-server"); isExecutable(p) {
		return p
	}
	t.Fatalf("nats-server not found: run `make tools` (it builds bin/nats-server), or set %s", natsServerEnv)
	return ""
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// newNATSServer picks two free ports (clients, monitoring) and keeps them
// for every start.
func newNATSServer(t *testing.T, bin, storeDir, logDir string) *natsServer {
	t.Helper()
	return &natsServer{bin: bin, storeDir: storeDir, logDir: logDir, port: testenv.FreePort(t), monitorPort: testenv.FreePort(t),
		exits: make(chan *process, 64)}
}

func (n *natsServer) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.port) }

func (n *natsServer) running() bool { return n.proc != nil && n.proc.running() }

// start runs the server and waits until it reports itself healthy,
// JetStream included.
func (n *natsServer) start() error {
	n.starts++
	p, err := startProcess(fmt.Sprintf("nats-server-%02d", n.starts), logFile(n.logDir, "nats-server", n.starts), nil, n.reportExit, n.bin,
		"-a", "127.0.0.1", "-p", strconv.Itoa(n.port), "-m", strconv.Itoa(n.monitorPort),
		"-n", "soak-nats", "-js", "-sd", n.storeDir)
	if err != nil {
		return err
	}
	n.proc = p
	health := fmt.Sprintf("http://127.0.0.1:%d/healthz", n.monitorPort)
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(natsReadyTimeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := client.Get(health)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET %s: %s", health, resp.Status)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not healthy after %s (last: %v)\n%s", p, natsReadyTimeout, err, p.tail(4096))
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited while starting:\n%s", p, p.tail(4096))
		case <-tick.C:
		}
	}
}

// kill SIGKILLs the server: no shutdown, no flush, as a crash does.
func (n *natsServer) kill() bool { return n.proc.kill() }

// stop ends the server for good.
func (n *natsServer) stop() {
	n.stopping.Store(true)
	if n.proc != nil {
		n.proc.stop(10 * time.Second)
	}
}

func (n *natsServer) reportExit(p *process) {
	if p.killedByUs() || n.stopping.Load() {
		return
	}
	select {
	case n.exits <- p:
	default:
	}
}
