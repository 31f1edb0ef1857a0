package cli

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/s3load/s3load/internal/config"
)

// A process started beside a NATS server whose JetStream is not ready yet
// (compose starting everything at once, a cluster electing its leader)
// waits for it instead of exiting.
func TestConnectWaitsForJetStream(t *testing.T) {
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start() // stopped by the cleanup below
	t.Cleanup(srv.Shutdown)
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	c := config.Config{}.WithDefaults()

	type result struct {
		conn *natsConn
		err  error
	}
	done := make(chan result, 1)
	go func() { // ends with connectNATS, which the test waits for below
		conn, err := connectNATS(context.Background(), srv.ClientURL(), "test", "job1", c, nil)
		done <- result{conn, err}
	}()
	select {
	case r := <-done:
		t.Fatalf("connectNATS returned before JetStream was enabled: %v", r.err)
	case <-time.After(time.Second):
	}
	if err := srv.EnableJetStream(&server.JetStreamConfig{StoreDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("connectNATS after JetStream came up: %v", r.err)
		}
		r.conn.nc.Close()
	case <-time.After(jetStreamWait):
		t.Fatal("connectNATS still waiting after JetStream came up")
	}
}
