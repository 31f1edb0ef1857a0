package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/s3load/s3load/messages"
)

// SchemaProber reads one file's schema for a probe task: the footer of a
// Parquet file, a sample of CSV or JSON. The kind says whose fault a
// failure is; a transient one is probed again by the coordinator.
type SchemaProber interface {
	Probe(ctx context.Context, table string, src messages.Source) (schema []byte, kind messages.ProbeKind, err error)
}

// probeConcurrency bounds the files of one probe task read at once: a
// probe is a ranged GET or a small sample, so latency, not the CPU, is
// what it waits on.
const probeConcurrency = 8

// handleProbe reads the schemas of a probe task's files and records them
// in one ProbeRecord. Probing changes nothing, so a redelivered task just
// probes again; the task is acked once the record is stored.
func (w *Worker) handleProbe(ctx context.Context, d Delivery, task messages.Task, log *slog.Logger) {
	rec := messages.ProbeRecord{LoadID: task.LoadID, Table: task.Table, Task: task.ID, Worker: w.cfg.ID,
		Results: make([]messages.ProbeResult, len(task.Files)), Schemas: map[string][]byte{}}
	var mu sync.Mutex
	lastAlive := time.Now()
	forEach(len(task.Files), probeConcurrency, func(i int) {
		f := task.Files[i]
		res := messages.ProbeResult{Source: f.Source, Kind: messages.ProbeTransient, Error: "this worker cannot probe schemas"}
		if w.cfg.Prober != nil {
			schema, kind, err := w.cfg.Prober.Probe(ctx, task.Table, f.Source)
			res = messages.ProbeResult{Source: f.Source, Kind: kind}
			if err != nil {
				res.Error = err.Error()
			}
			if kind == messages.ProbeOK {
				sum := sha256.Sum256(schema)
				res.Schema = hex.EncodeToString(sum[:12])
				mu.Lock()
				rec.Schemas[res.Schema] = schema
				mu.Unlock()
			}
		}
		mu.Lock()
		rec.Results[i] = res
		// Many slow samples must not look like a dead worker.
		alive := time.Since(lastAlive) > w.cfg.Heartbeat
		if alive {
			lastAlive = time.Now()
		}
		mu.Unlock()
		if alive {
			_ = d.InProgress(ctx)
		}
	})
	if ctx.Err() != nil {
		_ = d.Retry(context.WithoutCancel(ctx), 0)
		return
	}
	rec.Updated = time.Now().UTC()
	if err := w.files.PutProbe(ctx, rec); err != nil {
		if errors.Is(err, messages.ErrTooLarge) {
			// Never storable: the coordinator probes these files itself
			// once the findings stop coming.
			log.Error("a probe task's findings are too large to record", "err", err)
			_ = d.Term(ctx, err.Error())
			return
		}
		log.Warn("recording a probe task's findings", "err", err)
		_ = d.Retry(ctx, w.cfg.Policy.Backoff)
		return
	}
	w.ack(ctx, d, log)
}
