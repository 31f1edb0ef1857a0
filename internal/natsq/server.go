// Package natsq is s3load's NATS JetStream adapter: the work-queue stream of
// tasks, the key-value buckets that hold a load's durable state, and the
// embedded server `s3load run` starts when no NATS URL is given.
package natsq

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Embedded is an in-process NATS server with JetStream on file storage.
type Embedded struct{ srv *server.Server }

// StartEmbedded starts a JetStream server storing in dir, listening on host
// and port (0 = any free port).
func StartEmbedded(dir, host string, port int) (*Embedded, error) {
	opts := &server.Options{
		ServerName: "s3load-embedded",
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   dir,
		NoSigs:     true,
		NoLog:      true,
	}
	if port == 0 {
		opts.Port = server.RANDOM_PORT
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("configuring embedded nats: %w", err)
	}
	go srv.Start() // owned by Embedded: Shutdown stops it.
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("starting embedded nats: not ready after 10s")
	}
	return &Embedded{srv: srv}, nil
}

// URL is the client URL of the embedded server.
func (e *Embedded) URL() string { return e.srv.ClientURL() }

// Shutdown stops the server and waits for it.
func (e *Embedded) Shutdown() {
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
}

// Connect dials url and returns the connection and its JetStream context.
// The client reconnects forever: a NATS restart mid-load is waited out, not
// fatal.
func Connect(ctx context.Context, url, name string) (*nats.Conn, jetstream.JetStream, error) {
	nc, err := nats.Connect(url,
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		nats.RetryOnFailedConnect(true),
	)
	if err != nil {
		return nil, nil, fmt.Errorf("connecting to nats %s: %w", url, err)
	}
	// RetryOnFailedConnect returns at once; wait for a first connection so a
	// wrong URL fails clearly instead of hanging.
	deadline := time.Now().Add(30 * time.Second)
	for !nc.IsConnected() {
		if time.Now().After(deadline) {
			nc.Close()
			return nil, nil, fmt.Errorf("connecting to nats %s: no connection after 30s", url)
		}
		select {
		case <-ctx.Done():
			nc.Close()
			return nil, nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("opening jetstream: %w", err)
	}
	return nc, js, nil
}
