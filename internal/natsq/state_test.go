package natsq

import (
	"context"
	"testing"
)

// TestStateBucketDuplicateWindow: the state bucket's duplicate window is
// the narrowest the server takes, also after a later open (nats.go widens
// it to 2 minutes on each), so a restarted server has no ids to rebuild.
func TestStateBucketDuplicateWindow(t *testing.T) {
	js := embeddedJetStream(t)
	ctx := context.Background()
	for open := range 2 {
		if _, err := OpenState(ctx, js, Options{}); err != nil {
			t.Fatal(err)
		}
		stream, err := js.Stream(ctx, "KV_"+StateBucket)
		if err != nil {
			t.Fatal(err)
		}
		if got := stream.CachedInfo().Config.Duplicates; got != stateDuplicates {
			t.Fatalf("open %d: duplicate window %v, want %v", open+1, got, stateDuplicates)
		}
	}
}
