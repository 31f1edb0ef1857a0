package coordinator

import (
	"context"
	"sync"
	"time"

	"github.com/s3load/s3load/messages"
)

// liveListing is a table's listing as it runs: its pages are handed, in
// key order, to one reader while later ones are still being listed, so
// the pre-flight reads the first files' schemas while the store lists the
// rest. A table of 10,000 keys spends a third of a second listing; one of
// a million, fifteen.
type liveListing struct {
	cancel context.CancelFunc
	done   chan struct{} // closed once every range is listed or one failed

	mu sync.Mutex
	// changed is closed, and replaced, each time a page or a range's end
	// is added.
	changed chan struct{}
	ranges  []listedRange // nil until the splits are known
	err     error         // set before done is closed
	took    time.Duration // set before done is closed
	// The reader's place: the next page is ranges[at].pages[page].
	at, page int
}

// listedRange is one range's pages so far, and whether it is all listed.
type listedRange struct {
	pages [][]messages.Source
	done  bool
}

// startListing lists t's keys in the background, cut at the keys splits
// returns (read in the background too); its owner calls stop.
func (c *Coordinator) startListing(ctx context.Context, t Table, splits func(context.Context) []string) *liveListing {
	ctx, cancel := context.WithCancel(ctx)
	l := &liveListing{cancel: cancel, done: make(chan struct{}), changed: make(chan struct{})}
	go func() { // owned by stop
		started := time.Now()
		cuts := splits(ctx)
		l.mu.Lock()
		l.ranges = make([]listedRange, len(cuts)+1)
		l.notify()
		l.mu.Unlock()
		err := c.listRangesTo(ctx, t, cuts, l.add, l.end)
		l.mu.Lock()
		l.err, l.took = err, time.Since(started)
		l.mu.Unlock()
		close(l.done)
	}()
	return l
}

// add hands a range's next page to the reader.
func (l *liveListing) add(r int, page []messages.Source) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ranges[r].pages = append(l.ranges[r].pages, page)
	l.notify()
}

// end marks a range all listed.
func (l *liveListing) end(r int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ranges[r].done = true
	l.notify()
}

func (l *liveListing) notify() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// next returns the next page in key order, waiting for it to be listed;
// ok is false once every page was returned. A failed listing returns its
// error, whatever pages are left. The listing keeps no reference to the
// pages it returns.
func (l *liveListing) next(ctx context.Context) (page []messages.Source, ok bool, err error) {
	for {
		l.mu.Lock()
		if l.err != nil {
			l.mu.Unlock()
			return nil, false, l.err
		}
		started := l.ranges != nil
		for started && l.at < len(l.ranges) {
			r := &l.ranges[l.at]
			if l.page < len(r.pages) {
				page, r.pages[l.page] = r.pages[l.page], nil
				l.page++
				l.mu.Unlock()
				return page, true, nil
			}
			if !r.done {
				break
			}
			l.at, l.page = l.at+1, 0
		}
		finished := started && l.at == len(l.ranges)
		changed := l.changed
		l.mu.Unlock()
		if finished {
			// Every range ended: wait for the listing to return, so its
			// stats are final.
			select {
			case <-l.done:
			case <-ctx.Done():
				return nil, false, context.Cause(ctx)
			}
			l.mu.Lock()
			defer l.mu.Unlock()
			return nil, false, l.err
		}
		select {
		case <-changed:
		case <-l.done: // failed: the error is returned above
		case <-ctx.Done():
			return nil, false, context.Cause(ctx)
		}
	}
}

// stats are the listing's ranges and how long it took; final once next
// returned ok false.
func (l *liveListing) stats() (ranges int, took time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.ranges), l.took
}

// stop ends the listing if it still runs, and waits for it to end.
func (l *liveListing) stop() {
	if l == nil {
		return
	}
	l.cancel()
	<-l.done
}
