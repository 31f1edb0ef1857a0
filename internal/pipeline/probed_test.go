package pipeline

import (
	"fmt"
	"testing"
	"time"

	"github.com/s3load/s3load/messages"
)

func TestProbedFiles(t *testing.T) {
	src := func(i int) messages.Source {
		return messages.Source{Bucket: "b", Key: fmt.Sprintf("k%d", i), ETag: "e", Size: 1 << 20}
	}
	c := probedFiles{on: true}
	mb := make([]byte, 1<<20)
	for i := range 70 { // 70 MiB offered, 64 kept: the first ones
		c.put(src(i), mb)
	}
	if c.size != probedBytesMax {
		t.Fatalf("%d bytes kept, want the cap %d", c.size, probedBytesMax)
	}
	if _, ok := c.take(src(69)); ok {
		t.Error("a file offered past the cap was kept")
	}
	if _, ok := c.take(src(0)); !ok {
		t.Error("the first file was not kept")
	}
	if _, ok := c.take(src(0)); ok {
		t.Error("a file was taken twice")
	}
	other := src(1)
	other.ETag = "changed"
	if _, ok := c.take(other); ok {
		t.Error("another version of a kept file was taken")
	}
	// Bytes no load took are dropped after probedTTL.
	c.mu.Lock()
	for id, f := range c.files {
		f.at = time.Now().Add(-2 * probedTTL)
		c.files[id] = f
	}
	c.swept = time.Now().Add(-2 * probedTTL) // and the last sweep with them
	c.mu.Unlock()
	c.put(src(100), mb)
	if len(c.files) != 1 || c.size != 1<<20 {
		t.Errorf("%d files, %d bytes after expiry; want only the new one", len(c.files), c.size)
	}
}
