package icebergrest

import (
	"database/sql"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sync"
	"testing"

	"github.com/apache/iceberg-go"
	sqlcat "github.com/apache/iceberg-go/catalog/sql"

	_ "modernc.org/sqlite" // pure-Go SQLite, driver name "sqlite": no cgo needed
)

// DropConnection, given as a status to FailNextCommits or
// LoseNextCommitReply, closes the connection instead of answering, so the
// client gets a transport error rather than an HTTP status.
const DropConnection = 0

// catalogName is the SQL catalog's partition key; one server has one catalog.
const catalogName = "icebergrest"

// Server is a running REST catalog. It stops when the test ends.
type Server struct {
	// URL is the catalog's base URI, as given to rest.NewCatalog.
	URL string
	// Warehouse is where tables are created by default (a file:// URL
	// unless WithWarehouse said otherwise).
	Warehouse string

	t       testing.TB
	cfg     config
	backend *sqlcat.Catalog

	// commitMu serializes commits so a requirement checked by the handler
	// still holds when the backend applies the updates.
	commitMu sync.Mutex

	mu       sync.Mutex
	requests []string
	tokens   map[string]bool // issued by the token endpoint
	faults   []fault         // next commits' scripted outcomes, in order
	commits  int
}

// fault is one scripted commit outcome.
type fault struct {
	apply  bool // apply the commit before answering status
	status int  // HTTP status, or DropConnection
}

type config struct {
	token        string
	clientID     string
	clientSecret string
	warehouse    string
	ioProps      iceberg.Properties
}

// Option configures Start.
type Option func(*config)

// WithToken requires "Authorization: Bearer <token>" on every request but
// the token endpoint's (tokens the endpoint issued are accepted too).
func WithToken(token string) Option {
	return func(c *config) { c.token = token }
}

// WithClientCredentials makes /v1/oauth/tokens grant a bearer token to the
// client_credentials grant with this id and secret, and requires a bearer
// token on every other request.
func WithClientCredentials(id, secret string) Option {
	return func(c *config) { c.clientID, c.clientSecret = id, secret }
}

// WithWarehouse sets the default location of new tables, e.g.
// "s3://bucket/prefix". A scheme other than file:// needs its iceberg-go IO
// registered in the test binary (for S3, a blank import of
// github.com/apache/iceberg-go/io/gocloud) and its settings in
// WithIOProperties.
func WithWarehouse(url string) Option {
	return func(c *config) { c.warehouse = url }
}

// WithIOProperties gives storage settings (e.g. s3.endpoint,
// s3.access-key-id) to the server's own catalog and hands them to clients in
// each loaded table's config, as a catalog that vends storage config would.
func WithIOProperties(props map[string]string) Option {
	return func(c *config) {
		if c.ioProps == nil {
			c.ioProps = iceberg.Properties{}
		}
		for k, v := range props {
			c.ioProps[k] = v
		}
	}
}

// Start serves a REST catalog on 127.0.0.1 backed by a fresh SQLite catalog
// in t.TempDir(), and stops it when the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	dir := t.TempDir()
	if cfg.warehouse == "" {
		cfg.warehouse = (&url.URL{Scheme: "file", Path: filepath.Join(dir, "warehouse")}).String()
	}

	// WAL and a busy timeout let the pool's connections read while one writes.
	dsn := "file:" + filepath.Join(dir, "catalog.db") + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatalf("opening catalog database: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })

	props := iceberg.Properties{"warehouse": cfg.warehouse}
	for k, v := range cfg.ioProps {
		props[k] = v
	}
	backend, err := sqlcat.NewCatalog(catalogName, db, sqlcat.SQLite, props)
	if err != nil {
		t.Fatalf("creating SQL catalog: %v", err)
	}
	t.Cleanup(func() { _ = backend.Close() })

	s := &Server{
		Warehouse: cfg.warehouse,
		t:         t,
		cfg:       cfg,
		backend:   backend,
		tokens:    map[string]bool{},
	}
	hs := httptest.NewServer(s.handler())
	t.Cleanup(hs.Close)
	s.URL = hs.URL
	return s
}

// Backend is the SQL catalog behind the server, for a test that wants to
// look at the catalog's state without going through REST.
func (s *Server) Backend() *sqlcat.Catalog { return s.backend }

// FailNextCommits makes the next n table commits answer status (e.g. 409,
// 500, 503, or DropConnection) without applying them.
func (s *Server) FailNextCommits(n int, status int) {
	s.script(n, fault{apply: false, status: status})
}

// LoseNextCommitReply makes the next n table commits apply and then answer
// status (e.g. 503 or 504) or, with DropConnection, no reply at all: the
// client cannot know the commit landed.
func (s *Server) LoseNextCommitReply(n int, status int) {
	s.script(n, fault{apply: true, status: status})
}

func (s *Server) script(n int, f fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, f)
	}
}

// nextFault pops the next scripted commit outcome, if any.
func (s *Server) nextFault() (fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.faults) == 0 {
		return fault{}, false
	}
	f := s.faults[0]
	s.faults = s.faults[1:]
	return f, true
}

// Commits is the number of table commits applied (create-table is not one).
func (s *Server) Commits() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commits
}

// Requests is every request received so far, as "METHOD /escaped/path",
// in order; rejected ones included.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

func (s *Server) logRequest(r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r.Method+" "+r.URL.EscapedPath())
}

func (s *Server) countCommit() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commits++
}
