package natsq

import (
	"context"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/s3load/s3load/messages"
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

// TestStateBucketPersistMode: AsyncPersist sets the server's async persist
// mode on a bucket it creates, and a bucket made with the other mode (an
// older s3load's, or opened by `run` and then by a fleet's coordinator on
// the same store) opens as it is: the server refuses to change the mode.
func TestStateBucketPersistMode(t *testing.T) {
	for _, tc := range []struct {
		name          string
		first, second bool // AsyncPersist of the two opens
		want          jetstream.PersistModeType
	}{
		{"default", false, false, jetstream.DefaultPersistMode},
		{"async", true, true, jetstream.AsyncPersistMode},
		{"async over default", false, true, jetstream.DefaultPersistMode},
		{"default over async", true, false, jetstream.AsyncPersistMode},
	} {
		t.Run(tc.name, func(t *testing.T) {
			js := embeddedJetStream(t)
			ctx := context.Background()
			for i, async := range []bool{tc.first, tc.second} {
				st, err := OpenState(ctx, js, Options{AsyncPersist: async})
				if err != nil {
					t.Fatalf("open %d: %v", i+1, err)
				}
				rec := messages.LoadRecord{Job: fmt.Sprint("j", i), LoadID: "l"}
				if _, err := st.PutLoad(ctx, rec, 0); err != nil {
					t.Fatalf("open %d: writing: %v", i+1, err)
				}
			}
			stream, err := js.Stream(ctx, "KV_"+StateBucket)
			if err != nil {
				t.Fatal(err)
			}
			if got := stream.CachedInfo().Config.PersistMode; got != tc.want {
				t.Fatalf("persist mode %v, want %v", got, tc.want)
			}
			if got := stream.CachedInfo().Config.Duplicates; got != stateDuplicates {
				t.Fatalf("duplicate window %v, want %v", got, stateDuplicates)
			}
		})
	}
}
