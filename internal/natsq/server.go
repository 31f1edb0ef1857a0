// Package natsq is s3load's NATS JetStream adapter: the connection (its
// credentials, TLS, and which failures are permanent), the work-queue stream
// of tasks, the key-value buckets that hold a load's durable state, and the
// embedded server `s3load run` starts when no NATS URL is given.
package natsq

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
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
	var log startLog
	srv.SetLoggerV2(&log, false, false, false)
	// Start returns once JetStream is on and the client listener is up (its
	// accept loop is a goroutine of the server's, which Shutdown stops).
	// Started in a goroutine of ours, the server was rarely ready at
	// ReadyForConnections' first look, and every later look comes after a
	// 25 ms sleep: a quarter of `s3load run`'s start-up.
	srv.Start()
	ready := log.failure() == nil && srv.ReadyForConnections(10*time.Second)
	srv.SetLoggerV2(nil, false, false, false) // logging off again, as configured
	if !ready {
		srv.Shutdown()
		if err := log.failure(); err != nil {
			return nil, fmt.Errorf("starting embedded nats: %w", err)
		}
		return nil, errors.New("starting embedded nats: not ready after 10s")
	}
	return &Embedded{srv: srv}, nil
}

// startLog keeps the fatal errors the server logs while it starts. A
// server that cannot listen or start JetStream (a port in use, a store
// directory it cannot write) says so only in its log and returns from
// Start as if started: without the log, the caller waited 10 s for "not
// ready" and never learnt why.
type startLog struct {
	mu    sync.Mutex
	fatal []string
}

func (l *startLog) Fatalf(format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fatal = append(l.fatal, fmt.Sprintf(format, v...))
}

func (*startLog) Errorf(string, ...any)  {}
func (*startLog) Noticef(string, ...any) {}
func (*startLog) Warnf(string, ...any)   {}
func (*startLog) Debugf(string, ...any)  {}
func (*startLog) Tracef(string, ...any)  {}

// failure is the fatal errors logged so far, or nil.
func (l *startLog) failure() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.fatal) == 0 {
		return nil
	}
	return errors.New(strings.Join(l.fatal, "; "))
}

// URL is the client URL of the embedded server.
func (e *Embedded) URL() string { return e.srv.ClientURL() }

// Shutdown stops the server and waits for it. JetStream is stopped first,
// storing its streams as a shutdown does: the server's own shutdown
// otherwise sleeps 50 ms whenever a pull request is pending (a stopped
// worker's last fetch always is), to tell clients on other servers, and an
// embedded server has none.
func (e *Embedded) Shutdown() {
	_ = e.srv.ShutdownJetStream() // an error leaves the full shutdown to do it
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
}
