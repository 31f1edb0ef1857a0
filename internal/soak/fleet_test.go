package soak

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Worker settings: each worker loads this many files at once, and on
// SIGTERM gets this long to finish them.
const (
	workerConcurrency = 2
	workerDrain       = 5 * time.Second
)

// buildS3load builds the s3load binary into dir, once per test run.
func buildS3load(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "s3load")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/s3load/s3load/cmd/s3load").CombinedOutput()
	if err != nil {
		t.Fatalf("building s3load: %v\n%s", err, out)
	}
	return bin
}

// fleet is the load's s3load processes, all of one config: one coordinator
// at a time and a fixed set of workers, each started again after the soak
// kills it. An exit the soak did not cause is reported: a coordinator's on
// coordinatorExits (exit 0 ends a load), a worker's on workerExits.
type fleet struct {
	bin, config, logDir string
	env                 []string

	// stopping is set at the end: exits are expected from then on.
	stopping         atomic.Bool
	coordinatorExits chan *process
	workerExits      chan *process

	mu                sync.Mutex
	coordinator       *process
	coordinatorStarts int
	workers           []*process
	workerStarts      []int
}

func newFleet(bin, config, logDir string, env []string, workers int) *fleet {
	return &fleet{
		bin: bin, config: config, logDir: logDir, env: env,
		coordinatorExits: make(chan *process, 64), workerExits: make(chan *process, 64),
		workers: make([]*process, workers), workerStarts: make([]int, workers),
	}
}

// report sends an exit the soak did not cause to ch; the buffer is far
// larger than a run's processes could fill, so it never blocks.
func (f *fleet) report(ch chan<- *process) func(*process) {
	return func(p *process) {
		if p.killedByUs() || f.stopping.Load() {
			return
		}
		select {
		case ch <- p:
		default:
		}
	}
}

// startCoordinator starts a coordinator; it resumes the job's open load,
// or starts the next one.
func (f *fleet) startCoordinator() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.coordinatorStarts++
	name := fmt.Sprintf("coordinator-%02d", f.coordinatorStarts)
	p, err := startProcess(name, logFile(f.logDir, "coordinator", f.coordinatorStarts), f.env,
		f.report(f.coordinatorExits), f.bin, "coordinator", "--config", f.config)
	if err != nil {
		return err
	}
	f.coordinator = p
	return nil
}

func (f *fleet) currentCoordinator() *process {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.coordinator
}

func (f *fleet) coordinatorsStarted() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.coordinatorStarts
}

func (f *fleet) coordinatorRunning() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.coordinator != nil && f.coordinator.running()
}

// killCoordinator SIGKILLs the coordinator; false if it had exited.
func (f *fleet) killCoordinator() bool {
	f.mu.Lock()
	p := f.coordinator
	f.mu.Unlock()
	return p != nil && p.kill()
}

// startWorker starts worker i (again).
func (f *fleet) startWorker(i int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.workerStarts[i]++
	name := fmt.Sprintf("w%d", i+1)
	p, err := startProcess(fmt.Sprintf("%s-%02d", name, f.workerStarts[i]), logFile(f.logDir, name, f.workerStarts[i]), f.env,
		f.report(f.workerExits), f.bin, "worker", "--config", f.config, "--id", name,
		"--concurrency", fmt.Sprint(workerConcurrency), "--drain-timeout", workerDrain.String())
	if err != nil {
		return err
	}
	f.workers[i] = p
	return nil
}

// slotOf says which worker p is (or was, until started again).
func (f *fleet) slotOf(p *process) (int, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, w := range f.workers {
		if w == p {
			return i, true
		}
	}
	return 0, false
}

// runningWorkers lists the workers alive now.
func (f *fleet) runningWorkers() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []int
	for i, p := range f.workers {
		if p != nil && p.running() {
			out = append(out, i)
		}
	}
	return out
}

// killWorker SIGKILLs worker i; false if it had exited.
func (f *fleet) killWorker(i int) bool {
	f.mu.Lock()
	p := f.workers[i]
	f.mu.Unlock()
	return p != nil && p.kill()
}

// stop ends every process: the workers drain (SIGTERM), the coordinator is
// killed if one still runs.
func (f *fleet) stop() {
	f.stopping.Store(true)
	f.mu.Lock()
	procs := append([]*process{f.coordinator}, f.workers...)
	f.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range procs {
		if p == nil {
			continue
		}
		wg.Add(1)
		go func() { // owned by stop: awaited below.
			defer wg.Done()
			p.stop(workerDrain + 10*time.Second)
		}()
	}
	wg.Wait()
}
