package worker

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/s3load/s3load/internal/testenv"
	"github.com/s3load/s3load/messages"
)

// A worker with a file in hand logs one "holding" line naming its table,
// key, the megabytes read so far and its age; with nothing in hand, none.
func TestProgressHoldingLog(t *testing.T) {
	var buf testenv.SyncBuffer
	w := newTestWorker(t, newMemFiles(), nil, func(c *Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&buf, nil))
	})
	ctx := context.Background()
	w.logHolding(ctx, time.Now())
	if buf.String() != "" {
		t.Fatalf("an idle worker logged: %s", buf.String())
	}

	h := w.hold(messages.Task{LoadID: "l", Table: "t", Files: []messages.TaskFile{{Source: src}}})
	h.progress.AddBytes(2_500_000)
	h.progress.AddRows(42)
	w.logHolding(ctx, h.since.Add(90*time.Second))
	var line struct {
		Msg   string `json:"msg"`
		Files int    `json:"files"`
		Held  map[string]struct {
			Table string  `json:"table"`
			Key   string  `json:"key"`
			MB    float64 `json:"mb"`
			Rows  int64   `json:"rows"`
			Age   int64   `json:"age"` // nanoseconds in slog's JSON
		} `json:"held"`
	}
	out := strings.TrimSpace(buf.String())
	if strings.Count(out, "\n") != 0 {
		t.Fatalf("want one line, got:\n%s", out)
	}
	if err := json.Unmarshal([]byte(out), &line); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	f := line.Held["1"]
	if line.Msg != "holding" || line.Files != 1 || f.Table != "t" || f.Key != src.Key || f.MB != 2.5 || f.Rows != 42 ||
		time.Duration(f.Age) != 90*time.Second {
		t.Errorf("holding line: %s", out)
	}

	// The worker's own ticker writes it too, until stopped.
	w.release(h)
	w.cfg.HoldingLog = time.Millisecond
	buf = testenv.SyncBuffer{}
	h = w.hold(messages.Task{LoadID: "l", Table: "t", Files: []messages.TaskFile{{Source: src}}})
	lctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { // owned here: stop() ends it, and we wait on done.
		defer close(done)
		w.logHoldings(lctx)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(buf.String(), `"msg":"holding"`) {
		if time.Now().After(deadline) {
			t.Fatal("no holding line from the ticker")
		}
		time.Sleep(time.Millisecond)
	}
	stop()
	<-done
	w.release(h)
}
