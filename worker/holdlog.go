package worker

import (
	"context"
	"log/slog"
	"strconv"
	"time"
)

// DefaultHoldingLog is how often a worker with files in hand says so.
const DefaultHoldingLog = 10 * time.Second

// maxHeldLogged bounds one "holding" line: a worker with many slots of
// batched small files would otherwise write a line of thousands of files.
const maxHeldLogged = 20

// logHoldings writes, every HoldingLog while the worker holds files, one
// line naming them: what a worker is busy with, from its own log, when a
// load seems slow. Nothing is written while it holds nothing.
func (w *Worker) logHoldings(ctx context.Context) {
	t := time.NewTicker(w.cfg.HoldingLog)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w.logHolding(ctx, time.Now())
	}
}

// logHolding writes the "holding" line for what the worker holds at now.
// A batch's files share their task's figures (bytes are counted per task).
func (w *Worker) logHolding(ctx context.Context, now time.Time) {
	held := w.holdings()
	if len(held) == 0 {
		return
	}
	files := make([]any, 0, min(len(held), maxHeldLogged))
	for i, h := range held {
		if i == maxHeldLogged {
			break
		}
		files = append(files, slog.Group(strconv.Itoa(i+1),
			"table", h.Table, "key", h.Key,
			"mb", float64(h.Bytes)/1e6, "rows", h.Rows,
			"age", now.Sub(h.Since).Round(time.Second)))
	}
	attrs := []any{"files", len(held), slog.Group("held", files...)}
	if len(held) > maxHeldLogged {
		attrs = append(attrs, "more", len(held)-maxHeldLogged)
	}
	w.cfg.Logger.InfoContext(ctx, "holding", attrs...)
}
