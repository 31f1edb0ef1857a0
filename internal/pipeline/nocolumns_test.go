package pipeline

import (
	"fmt"
	"testing"

	"github.com/s3load/s3load/worker"
)

// A part without columns is refused for good: trying again would make the
// same unreadable part.
func TestNoColumnsIsPermanent(t *testing.T) {
	if k := classify(fmt.Errorf("s3://b/k.json: %w", errNoColumns)); k != worker.Permanent {
		t.Fatalf("classify(errNoColumns) = %v, want permanent", k)
	}
}
