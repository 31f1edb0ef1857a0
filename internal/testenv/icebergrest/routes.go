package icebergrest

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/apache/iceberg-go/table"
)

// nsSeparator joins namespace levels in a path segment: the spec's default
// (0x1F, sent as %1F), which the client uses when config names none.
const nsSeparator = "\x1f"

// endpoint is one served route; /v1/config advertises it in the spec's
// "METHOD /v1/{prefix}/..." form, and the client refuses unadvertised ones
// itself.
type endpoint struct {
	method, path string
	handle       func(*Server, http.ResponseWriter, *http.Request)
}

// endpoints are the routes served, besides config and the token endpoint.
func endpoints() []endpoint {
	return []endpoint{
		{http.MethodGet, "/namespaces", (*Server).listNamespaces},
		{http.MethodPost, "/namespaces", (*Server).createNamespace},
		{http.MethodGet, "/namespaces/{namespace}", (*Server).loadNamespace},
		{http.MethodHead, "/namespaces/{namespace}", (*Server).namespaceExists},
		{http.MethodDelete, "/namespaces/{namespace}", (*Server).dropNamespace},
		{http.MethodPost, "/namespaces/{namespace}/properties", (*Server).updateNamespace},
		{http.MethodGet, "/namespaces/{namespace}/tables", (*Server).listTables},
		{http.MethodPost, "/namespaces/{namespace}/tables", (*Server).createTable},
		{http.MethodGet, "/namespaces/{namespace}/tables/{table}", (*Server).loadTable},
		{http.MethodHead, "/namespaces/{namespace}/tables/{table}", (*Server).tableExists},
		{http.MethodPost, "/namespaces/{namespace}/tables/{table}", (*Server).commitTable},
		{http.MethodDelete, "/namespaces/{namespace}/tables/{table}", (*Server).dropTable},
	}
}

func (s *Server) handler() http.Handler {
	api := http.NewServeMux()
	api.HandleFunc("GET /v1/config", s.getConfig)
	for _, e := range endpoints() {
		api.HandleFunc(e.method+" /v1"+e.path, func(w http.ResponseWriter, r *http.Request) { e.handle(s, w, r) })
	}
	api.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, http.StatusNotImplemented, "UnsupportedOperationException",
			fmt.Sprintf("%s %s is not served by this test catalog", r.Method, r.URL.Path))
	})

	root := http.NewServeMux()
	root.HandleFunc("POST /v1/oauth/tokens", s.handleToken)
	root.Handle("/", s.requireAuth(api))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.logRequest(r)
		root.ServeHTTP(w, r)
	})
}

// configResponse is GET /v1/config's reply.
type configResponse struct {
	Defaults  map[string]string `json:"defaults"`
	Overrides map[string]string `json:"overrides"`
	Endpoints []string          `json:"endpoints"`
}

func (s *Server) getConfig(w http.ResponseWriter, _ *http.Request) {
	var eps []string
	for _, e := range endpoints() {
		eps = append(eps, e.method+" /v1/{prefix}"+e.path)
	}
	writeJSON(w, http.StatusOK, configResponse{
		Defaults:  map[string]string{},
		Overrides: map[string]string{},
		Endpoints: eps,
	})
}

// pathNamespace is the {namespace} path parameter, split into its levels.
func pathNamespace(r *http.Request) (table.Identifier, error) {
	raw := r.PathValue("namespace")
	if raw == "" {
		return nil, fmt.Errorf("%w: empty namespace", errBadRequest)
	}
	return strings.Split(raw, nsSeparator), nil
}

// pathTable is the {namespace} and {table} path parameters as one identifier.
func pathTable(r *http.Request) (table.Identifier, error) {
	ns, err := pathNamespace(r)
	if err != nil {
		return nil, err
	}
	name := r.PathValue("table")
	if name == "" {
		return nil, fmt.Errorf("%w: empty table name", errBadRequest)
	}
	return append(ns, name), nil
}
