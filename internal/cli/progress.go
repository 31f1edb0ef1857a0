package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/oklog/run"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/messages"
)

// How a load's progress is shown on stderr.
const (
	progressAuto = "auto" // bars on a terminal (and without --log-json), else log lines
	progressBars = "bars" // a bar per table, redrawn in place
	progressLog  = "log"  // a "progress" log line per table every interval
	progressOff  = "off"
)

// Progress timing: how often log lines are written by default, and how
// often the bars take the coordinator's figures (mpb redraws on its own).
const (
	defaultProgressInterval = 10 * time.Second
	barsPoll                = 200 * time.Millisecond
	barsRedraw              = 150 * time.Millisecond
	// failReasonMax bounds the reason a failed table's bar ends with, so the
	// bar stays on one terminal line.
	failReasonMax = 60
)

// progressFlags choose how `run` and `coordinator` show a load's progress.
type progressFlags struct {
	mode     string
	interval time.Duration
}

func (p *progressFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&p.mode, "progress", progressAuto, "show the load's progress on stderr: auto (bars on a terminal, log lines otherwise), bars, log or off")
	fs.DurationVar(&p.interval, "progress-interval", defaultProgressInterval, "how often --progress log writes its lines")
}

// progressView shows a load's progress, from the coordinator of the
// session, the way the flags chose. Its methods are safe on nil (no
// progress shown).
type progressView struct {
	mode     string // bars, log or off, once resolved
	interval time.Duration
	stderr   io.Writer
	sink     *logSink

	mu     sync.Mutex
	source func() messages.ProgressRecord // the coordinator's Progress, once it exists
	ended  chan struct{}                  // closed when the coordinator's actor returns
	once   sync.Once
}

// open resolves the flags against stderr: auto draws bars only on a
// terminal and never beside --log-json, whose lines are for machines.
func (p progressFlags) open(stderr io.Writer, logJSON bool) (*progressView, error) {
	mode := p.mode
	switch mode {
	case progressAuto:
		mode = progressLog
		if !logJSON && isTerminal(stderr) && terminalWidth(stderr) > 0 {
			mode = progressBars
		}
	case progressBars, progressLog, progressOff:
	default:
		return nil, usageErr(fmt.Errorf("--progress: %q is not auto, bars, log or off", p.mode))
	}
	if p.interval <= 0 {
		return nil, usageErr(errors.New("--progress-interval must be positive"))
	}
	return &progressView{mode: mode, interval: p.interval, stderr: stderr, sink: &logSink{out: stderr},
		ended: make(chan struct{})}, nil
}

// isTerminal reports whether w is a terminal, where bars are drawn and a
// redraw may clear the screen.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// terminalWidth is the columns of the terminal w is, 0 when it does not
// say (a pseudo-terminal nobody sized, as `script` or some container
// runtimes make): bars would draw nothing there, so auto logs instead.
func terminalWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok {
		return 0
	}
	cols, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return cols
}

// logOutput is where the session's logger writes: stderr, through the
// bars' container while bars are drawn, so a log line lands above them
// whole instead of inside a half-redrawn bar.
func (v *progressView) logOutput() io.Writer {
	if v == nil {
		return nil
	}
	return v.sink
}

// started hands the view the coordinator whose progress it shows.
func (v *progressView) started(co *coordinator.Coordinator) {
	if v == nil {
		return
	}
	v.watch(co.Progress)
}

// watch takes progress from source from now on.
func (v *progressView) watch(source func() messages.ProgressRecord) {
	v.mu.Lock()
	v.source = source
	v.mu.Unlock()
}

// finished says the coordinator is done: its figures are final.
func (v *progressView) finished() {
	if v == nil {
		return
	}
	v.once.Do(func() { close(v.ended) })
}

func (v *progressView) read() (messages.ProgressRecord, bool) {
	v.mu.Lock()
	source := v.source
	v.mu.Unlock()
	if source == nil {
		return messages.ProgressRecord{}, false
	}
	return source(), true
}

// add adds the progress actor to g. It draws or logs until the
// coordinator's actor has returned (which the group's end guarantees), so
// its last figures are the coordinator's final ones.
func (v *progressView) add(g *run.Group, log *slog.Logger) {
	if v == nil || v.mode == progressOff {
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	g.Add(func() error {
		if v.mode == progressBars {
			v.drawBars(ctx)
		} else {
			v.logLines(ctx, log)
		}
		return nil
	}, func(error) { stop() })
}

// untilEnded ticks every d until the coordinator ends; after the group's
// interrupt (ctx) it still waits for that end, which follows promptly.
func (v *progressView) untilEnded(ctx context.Context, d time.Duration, tick func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-v.ended:
			return
		case <-ctx.Done():
			<-v.ended
			return
		case <-t.C:
			tick()
		}
	}
}

// logLines writes, every interval, one "progress" line per table that
// has started and not yet ended; a table's last line carries its final
// figures (phase committed or failed). Tables still waiting are left out.
func (v *progressView) logLines(ctx context.Context, log *slog.Logger) {
	final := map[string]bool{}
	write := func() {
		rec, ok := v.read()
		if !ok {
			return
		}
		for _, tp := range rec.Tables {
			if final[tp.Table] || tp.Phase == messages.PhaseWaiting {
				continue
			}
			final[tp.Table] = tp.Phase == messages.PhaseCommitted || tp.Phase == messages.PhaseFailed
			log.Info("progress", progressAttrs(tp)...)
		}
	}
	v.untilEnded(ctx, v.interval, write)
	write()
}

// progressAttrs are one table's figures on a "progress" line.
func progressAttrs(tp messages.TableProgress) []any {
	attrs := []any{"table", tp.Table, "phase", string(tp.Phase),
		"files_done", filesDone(tp), "files", tp.Files, "mb", megabytes(tp.DoneBytes), "rows", tp.Rows,
		"mb_per_s", math.Round(tp.BytesPerSecond/1e4) / 100, "eta", eta(tp)}
	if tp.Failed+tp.Changed > 0 {
		attrs = append(attrs, "failed", tp.Failed+tp.Changed)
	}
	if tp.Error != "" {
		attrs = append(attrs, "error", tp.Error)
	}
	return attrs
}

func filesDone(tp messages.TableProgress) int { return tp.Loaded + tp.Failed + tp.Changed }

// megabytes rounds to the kilobyte: enough to watch, short to read.
func megabytes(b int64) float64 { return math.Round(float64(b)/1e3) / 1e3 }

func eta(tp messages.TableProgress) time.Duration {
	return (time.Duration(tp.ETASeconds * float64(time.Second))).Round(time.Second)
}

// logSink is the session logger's output: stderr, or the bars' container
// while it draws (mpb prints what it is written above the bars).
type logSink struct {
	mu  sync.Mutex
	out io.Writer
	via io.Writer
}

func (s *logSink) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.via != nil {
		if n, err := s.via.Write(b); err == nil {
			return n, nil
		}
	}
	return s.out.Write(b)
}

func (s *logSink) route(via io.Writer) {
	s.mu.Lock()
	s.via = via
	s.mu.Unlock()
}

// tableBar is one table's bar and the figures its decorators show.
type tableBar struct {
	bar  *mpb.Bar
	mu   sync.Mutex
	tp   messages.TableProgress
	done bool // completed or aborted: no more updates
	why  string
}

func (b *tableBar) set(tp messages.TableProgress) {
	b.mu.Lock()
	b.tp = tp
	b.mu.Unlock()
}

// text is what the bar says after its filler.
func (b *tableBar) text() string {
	b.mu.Lock()
	tp, why := b.tp, b.why
	b.mu.Unlock()
	files := fmt.Sprintf("%d/%d files", filesDone(tp), tp.Files)
	if !tp.Listed && tp.Phase != messages.PhaseCommitted && tp.Phase != messages.PhaseFailed {
		files += "+"
	}
	parts := []string{files, mbText(tp.DoneBytes), fmt.Sprintf("%d rows", tp.Rows)}
	switch tp.Phase {
	case messages.PhaseCommitted:
		parts = append(parts, "committed")
	case messages.PhaseFailed:
		parts = append(parts, "failed: "+shorten(cmpOr(tp.Error, fmt.Sprintf("%d files failed", tp.Failed+tp.Changed)), failReasonMax))
	default:
		if why != "" {
			parts = append(parts, why)
			break
		}
		if tp.BytesPerSecond > 0 {
			parts = append(parts, fmt.Sprintf("%.1f MB/s", tp.BytesPerSecond/1e6))
		}
		if e := eta(tp); e > 0 {
			parts = append(parts, "ETA "+e.String())
		}
		if tp.Phase != messages.PhaseLoading {
			parts = append(parts, string(tp.Phase))
		}
	}
	return strings.Join(parts, " · ")
}

// mbText shows small tables to the 10 kB, big ones to the 100 kB.
func mbText(b int64) string {
	if mb := float64(b) / 1e6; mb < 10 {
		return fmt.Sprintf("%.2f MB", mb)
	}
	return fmt.Sprintf("%.1f MB", float64(b)/1e6)
}

func cmpOr(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

// shorten keeps the first line of s, at most n runes.
func shorten(s string, n int) string {
	s, _, _ = strings.Cut(s, "\n")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// drawBars draws a bar per table on stderr, added as the table starts
// and finished with its outcome; tables the load did not finish (an
// interrupted load) end "interrupted".
func (v *progressView) drawBars(ctx context.Context) {
	p := mpb.New(mpb.WithOutput(v.stderr), mpb.WithWidth(30), mpb.WithRefreshRate(barsRedraw),
		mpb.ContainerOptional(mpb.WithAutoRefresh(), !isTerminal(v.stderr)))
	v.sink.route(p)
	bars := map[string]*tableBar{}
	var order []*tableBar
	nameWidth := 0
	update := func() {
		rec, ok := v.read()
		if !ok {
			return
		}
		for _, tp := range rec.Tables {
			nameWidth = max(nameWidth, len(tp.Table))
		}
		for _, tp := range rec.Tables {
			if tp.Phase == messages.PhaseWaiting {
				continue
			}
			b := bars[tp.Table]
			if b == nil {
				b = &tableBar{tp: tp}
				name := fmt.Sprintf("%-*s", nameWidth, tp.Table)
				b.bar = p.AddBar(0,
					mpb.PrependDecorators(decor.Name(name, decor.WC{C: decor.DindentRight})),
					mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return b.text() })))
				bars[tp.Table] = b
				order = append(order, b)
			}
			if b.done {
				continue
			}
			b.set(tp)
			if tp.Files > 0 {
				b.bar.SetTotal(int64(tp.Files), false)
			}
			b.bar.SetCurrent(int64(filesDone(tp)))
			switch tp.Phase {
			case messages.PhaseCommitted:
				b.done = true
				b.bar.SetTotal(-1, true)
			case messages.PhaseFailed:
				b.done = true
				b.bar.Abort(false)
			}
		}
	}
	v.untilEnded(ctx, barsPoll, update)
	update()
	// Hold the log lines while the last frames are drawn: written through
	// the container they could be dropped at its shutdown, written to
	// stderr they would land inside a frame.
	v.sink.mu.Lock()
	defer v.sink.mu.Unlock()
	for _, b := range order {
		if !b.done {
			b.mu.Lock()
			b.why = "interrupted"
			b.mu.Unlock()
			b.bar.Abort(false)
		}
	}
	p.Wait()
	v.sink.via = nil
}
