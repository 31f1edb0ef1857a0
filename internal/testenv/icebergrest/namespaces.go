package icebergrest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// namespaceBody is a namespace and its properties, as created and loaded.
type namespaceBody struct {
	Namespace  table.Identifier   `json:"namespace"`
	Properties iceberg.Properties `json:"properties"`
}

func (s *Server) listNamespaces(w http.ResponseWriter, r *http.Request) {
	var parent table.Identifier
	if p := r.URL.Query().Get("parent"); p != "" {
		parent = strings.Split(p, nsSeparator)
	}
	nss, err := s.backend.ListNamespaces(r.Context(), parent)
	if err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	if nss == nil {
		nss = []table.Identifier{}
	}
	// One page holds them all, so no next-page-token.
	writeJSON(w, http.StatusOK, struct {
		Namespaces []table.Identifier `json:"namespaces"`
	}{nss})
}

func (s *Server) createNamespace(w http.ResponseWriter, r *http.Request) {
	var req namespaceBody
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		s.writeBackendError(w, r, fmt.Errorf("%w: decoding create-namespace request: %w", errBadRequest, err))
		return
	}
	if len(req.Namespace) == 0 {
		s.writeBackendError(w, r, fmt.Errorf("%w: empty namespace", errBadRequest))
		return
	}
	if err := s.backend.CreateNamespace(r.Context(), req.Namespace, req.Properties); err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	props, err := s.backend.LoadNamespaceProperties(r.Context(), req.Namespace)
	if err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, namespaceBody{Namespace: req.Namespace, Properties: props})
}

func (s *Server) loadNamespace(w http.ResponseWriter, r *http.Request) {
	ns, err := pathNamespace(r)
	if err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	props, err := s.backend.LoadNamespaceProperties(r.Context(), ns)
	if err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, namespaceBody{Namespace: ns, Properties: props})
}

func (s *Server) namespaceExists(w http.ResponseWriter, r *http.Request) {
	ns, err := pathNamespace(r)
	if err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	ok, err := s.backend.CheckNamespaceExists(r.Context(), ns)
	s.writeExists(w, r, ok, err)
}

func (s *Server) dropNamespace(w http.ResponseWriter, r *http.Request) {
	ns, err := pathNamespace(r)
	if err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	if err := s.backend.DropNamespace(r.Context(), ns); err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) updateNamespace(w http.ResponseWriter, r *http.Request) {
	ns, err := pathNamespace(r)
	if err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	var req struct {
		Removals []string           `json:"removals"`
		Updates  iceberg.Properties `json:"updates"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		s.writeBackendError(w, r, fmt.Errorf("%w: decoding update-namespace request: %w", errBadRequest, err))
		return
	}
	sum, err := s.backend.UpdateNamespaceProperties(r.Context(), ns, req.Removals, req.Updates)
	if err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sum)
}
