package cli

import (
	"fmt"
	"io"
	"net/http"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/s3load/s3load/internal/testenv"
)

// sample is one line of a Prometheus text exposition.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// scrape reads url's metrics; ok is false when it could not.
func scrape(url string) (samples []sample, ok bool) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, false
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, false
	}
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s, err := parseSample(line)
		if err != nil {
			return nil, false
		}
		samples = append(samples, s)
	}
	return samples, true
}

// parseSample parses `name{k="v",...} value`.
func parseSample(line string) (sample, error) {
	s := sample{labels: map[string]string{}}
	i := strings.IndexAny(line, "{ ")
	if i < 0 {
		return s, fmt.Errorf("bad sample %q", line)
	}
	s.name, line = line[:i], line[i:]
	if line[0] == '{' {
		line = line[1:]
		for line[0] != '}' {
			eq := strings.Index(line, "=\"")
			if eq < 0 {
				return s, fmt.Errorf("bad labels in %q", line)
			}
			key := line[:eq]
			line = line[eq+2:]
			var v strings.Builder
			for line[0] != '"' {
				if line[0] == '\\' {
					line = line[1:]
					if line[0] == 'n' {
						v.WriteByte('\n')
						line = line[1:]
						continue
					}
				}
				v.WriteByte(line[0])
				line = line[1:]
			}
			s.labels[key] = v.String()
			line = strings.TrimPrefix(line[1:], ",")
		}
		line = line[1:]
	}
	f := strings.Fields(line)
	if len(f) == 0 {
		return s, fmt.Errorf("no value in %q", line)
	}
	v, err := strconv.ParseFloat(f[0], 64)
	s.value = v
	return s, err
}

// value is the sum of the samples named name whose labels include want;
// found is false when there is none.
func value(samples []sample, name string, want map[string]string) (v float64, found bool) {
next:
	for _, s := range samples {
		if s.name != name {
			continue
		}
		for k, w := range want {
			if s.labels[k] != w {
				continue next
			}
		}
		v, found = v+s.value, true
	}
	return v, found
}

// During an `s3load run`, /metrics on the health listener shows the files,
// rows and bytes loaded per table, the S3 requests with their throttles,
// the queue and the workers; at the end the counters are the report's, and
// no label names an object or holds a credential.
func TestMetricsDuringRun(t *testing.T) {
	e := newLoadEnv(t)
	proxy := e.viaProxy()
	keys := map[string][]string{}
	want := map[string]struct{ files, rows int }{"alpha": {3, 300}, "beta": {2, 80}}
	for i := range 3 {
		k := fmt.Sprintf("alpha/obj-alpha-%d.csv", i)
		e.put(k, csvRows(i*100, 100, ",", true))
		keys["alpha"] = append(keys["alpha"], k)
	}
	for i := range 2 {
		k := fmt.Sprintf("beta/obj-beta-%d.jsonl", i)
		e.put(k, jsonLines(i*40, 40))
		keys["beta"] = append(keys["beta"], k)
	}
	// zhold's only file is throttled until the test has looked: it holds
	// the load open, and its throttles must show.
	e.put("zhold/obj-hold.csv", csvRows(0, 10, ",", true))
	keys["zhold"] = []string{"zhold/obj-hold.csv"}
	proxy.Fail(1<<30, http.StatusServiceUnavailable, "SlowDown", testenv.IsGet("obj-hold.csv"))

	cfg := e.writeConfig(`  - { name: alpha, prefix: alpha/ }
  - { name: beta, prefix: beta/ }
  - { name: zhold, prefix: zhold/ }`, "")
	addr := testenv.FreeAddr(t)
	reportPath := filepath.Join(t.TempDir(), "report.json")
	type result struct {
		code           int
		stdout, stderr string
	}
	done := make(chan result, 1)
	go func() {
		code, stdout, stderr := runCLI(t, "run", "--config", cfg, "--health-addr", addr, "--report-json", reportPath)
		done <- result{code, stdout, stderr}
	}()

	url := "http://" + addr + "/metrics"
	var samples []sample
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var ok bool
		if samples, ok = scrape(url); ok && loadedAsExpected(samples, want) {
			break
		}
		select {
		case r := <-done:
			t.Fatalf("the load ended (exit %d) before the metrics showed it\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics never showed alpha and beta loaded; last scrape:\n%v", samples)
		}
	}

	if n, _ := value(samples, "s3load_s3_requests_total", map[string]string{"store": "source", "operation": "GetObject", "outcome": "throttled"}); n < 1 {
		t.Errorf("no throttled GetObject counted while the proxy throttled one file")
	}
	if n, _ := value(samples, "s3load_s3_requests_total", map[string]string{"store": "source", "operation": "ListObjectsV2", "outcome": "ok"}); n < 1 {
		t.Errorf("no successful listing counted")
	}
	for _, name := range []string{"s3load_tasks_in_flight", "s3load_queue_pending_tasks", "s3load_queue_ack_pending_tasks",
		"s3load_workers_alive", "go_goroutines", "process_resident_memory_bytes"} {
		if _, found := value(samples, name, nil); !found {
			t.Errorf("metric %s missing", name)
		}
	}
	if n, found := value(samples, "s3load_decode_duration_seconds_count", map[string]string{"table": "alpha"}); !found || n < 1 {
		t.Errorf("alpha: %v parts' decode times observed", n)
	}
	if n, found := value(samples, "s3load_write_duration_seconds_count", map[string]string{"table": "alpha"}); !found || n < 1 {
		t.Errorf("alpha: %v parts' write times observed", n)
	}
	checkLabels(t, samples, keys, e.s3.SecretAccessKey, e.s3.AccessKeyID)
	// The same listener serves the status page and its JSON for `s3load run`.
	for _, u := range []string{"http://" + addr + "/", "http://" + addr + "/api/status"} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "alpha") {
			t.Errorf("GET %s: %s, want the status page naming table alpha:\n%.500s", u, resp.Status, body)
		}
	}

	proxy.Clear()
	var r result
	select {
	case r = <-done:
	case <-time.After(3 * time.Minute):
		t.Fatal("the load did not finish once the file was let through")
	}
	if r.code != ExitOK {
		t.Fatalf("s3load run exited %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	report := readReport(t, reportPath)
	for _, tr := range report.Tables {
		if _, ok := want[tr.Name]; !ok {
			continue
		}
		l := map[string]string{"table": tr.Name}
		files, _ := value(samples, "s3load_files_settled_total", map[string]string{"table": tr.Name, "state": "loaded"})
		rows, _ := value(samples, "s3load_rows_loaded_total", l)
		bytes, _ := value(samples, "s3load_source_bytes_loaded_total", l)
		if int(files) != tr.Loaded || int64(rows) != tr.Rows || int64(bytes) != tr.Bytes {
			t.Errorf("table %s: metrics files=%v rows=%v bytes=%v, report loaded=%d rows=%d bytes=%d",
				tr.Name, files, rows, bytes, tr.Loaded, tr.Rows, tr.Bytes)
		}
	}
}

// loadedAsExpected: the workers' counters show every file of want's
// tables loaded with their rows, a worker is alive, and the coordinator's
// view (its progress, read at scrape time) agrees.
func loadedAsExpected(samples []sample, want map[string]struct{ files, rows int }) bool {
	for table, w := range want {
		files, _ := value(samples, "s3load_files_settled_total", map[string]string{"table": table, "state": "loaded"})
		rows, _ := value(samples, "s3load_rows_loaded_total", map[string]string{"table": table})
		if int(files) != w.files || int(rows) != w.rows {
			return false
		}
		if n, found := value(samples, "s3load_load_files", map[string]string{"table": table, "state": "loaded"}); !found || int(n) != w.files {
			return false
		}
	}
	alive, _ := value(samples, "s3load_workers_alive", nil)
	return alive >= 1
}

// checkLabels fails on any label value that holds an object key, its file
// name, or a credential.
func checkLabels(t *testing.T, samples []sample, keys map[string][]string, secrets ...string) {
	t.Helper()
	var banned []string
	for _, ks := range keys {
		for _, k := range ks {
			banned = append(banned, k, path.Base(k))
		}
	}
	banned = append(banned, secrets...)
	for _, s := range samples {
		for k, v := range s.labels {
			for _, b := range banned {
				if b != "" && strings.Contains(v, b) {
					t.Errorf("metric %s label %s=%q holds %q", s.name, k, v, b)
				}
			}
		}
	}
}
