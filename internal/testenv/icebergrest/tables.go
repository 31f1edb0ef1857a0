package icebergrest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
)

// identifier is the spec's TableIdentifier.
type identifier struct {
	Namespace table.Identifier `json:"namespace"`
	Name      string           `json:"name"`
}

// loadTableResult is the spec's LoadTableResult, the reply to create and
// load; a staged create has no metadata location yet.
type loadTableResult struct {
	MetadataLocation string             `json:"metadata-location,omitempty"`
	Metadata         table.Metadata     `json:"metadata"`
	Config           iceberg.Properties `json:"config,omitempty"`
}

// createTableRequest is the spec's CreateTableRequest. Its partition spec
// and write order carry source IDs of the request's schema, so they decode
// unbound and are bound when the metadata is built.
type createTableRequest struct {
	Name          string                        `json:"name"`
	Location      string                        `json:"location"`
	Schema        *iceberg.Schema               `json:"schema"`
	PartitionSpec *iceberg.UnboundPartitionSpec `json:"partition-spec"`
	WriteOrder    *table.UnboundSortOrder       `json:"write-order"`
	StageCreate   bool                          `json:"stage-create"`
	Properties    iceberg.Properties            `json:"properties"`
}

func (s *Server) listTables(w http.ResponseWriter, r *http.Request) {
	ns, err := pathNamespace(r)
	if err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	ids := []identifier{}
	for id, err := range s.backend.ListTables(r.Context(), ns) {
		if err != nil {
			s.writeBackendError(w, r, err)
			return
		}
		ids = append(ids, identifier{Namespace: catalog.NamespaceFromIdent(id), Name: catalog.TableNameFromIdent(id)})
	}
	// One page holds them all, so no next-page-token.
	writeJSON(w, http.StatusOK, struct {
		Identifiers []identifier `json:"identifiers"`
	}{ids})
}

func (s *Server) createTable(w http.ResponseWriter, r *http.Request) {
	ns, err := pathNamespace(r)
	if err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	var req createTableRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		s.writeBackendError(w, r, fmt.Errorf("%w: decoding create-table request: %w", errBadRequest, err))
		return
	}
	if req.Name == "" || req.Schema == nil {
		s.writeBackendError(w, r, fmt.Errorf("%w: create-table needs a name and a schema", errBadRequest))
		return
	}
	ident := append(ns, req.Name)

	var spec *iceberg.PartitionSpec
	if req.PartitionSpec != nil {
		spec = &req.PartitionSpec.PartitionSpec
	}
	order := table.UnsortedSortOrder
	if req.WriteOrder != nil {
		order = req.WriteOrder.SortOrder
	}

	if req.StageCreate {
		s.stageCreate(w, r, ident, req, spec, order)
		return
	}

	opts := []catalog.CreateTableOpt{catalog.WithSortOrder(order), catalog.WithProperties(req.Properties)}
	if spec != nil {
		opts = append(opts, catalog.WithPartitionSpec(spec))
	}
	if req.Location != "" {
		opts = append(opts, catalog.WithLocation(req.Location))
	}
	tbl, err := s.backend.CreateTable(r.Context(), ident, req.Schema, opts...)
	if err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, loadTableResult{
		MetadataLocation: tbl.MetadataLocation(),
		Metadata:         tbl.Metadata(),
		Config:           s.cfg.ioProps,
	})
}

// stageCreate answers a staged create: the table's first metadata, recorded
// nowhere, for the client to commit with an assert-create requirement.
func (s *Server) stageCreate(w http.ResponseWriter, r *http.Request, ident table.Identifier,
	req createTableRequest, spec *iceberg.PartitionSpec, order table.SortOrder,
) {
	ns := catalog.NamespaceFromIdent(ident)
	nsProps, err := s.backend.LoadNamespaceProperties(r.Context(), ns)
	if err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	exists, err := s.backend.CheckTableExists(r.Context(), ident)
	if err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	if exists {
		s.writeBackendError(w, r, fmt.Errorf("%w: %s", catalog.ErrTableAlreadyExists, strings.Join(ident, ".")))
		return
	}

	// Where the SQL catalog would put it: the namespace's location, else
	// the warehouse.
	loc := strings.TrimSuffix(req.Location, "/")
	if loc == "" {
		if nsLoc := nsProps.Get("location", ""); nsLoc != "" {
			loc, err = url.JoinPath(nsLoc, req.Name)
		} else {
			loc, err = url.JoinPath(s.Warehouse, strings.Join(ns, ".")+".db", req.Name)
		}
		if err != nil {
			s.writeBackendError(w, r, fmt.Errorf("resolving table location: %w", err))
			return
		}
	}
	meta, err := table.NewMetadata(req.Schema, spec, order, loc, req.Properties)
	if err != nil {
		s.writeBackendError(w, r, fmt.Errorf("%w: building table metadata: %w", errBadRequest, err))
		return
	}
	writeJSON(w, http.StatusOK, loadTableResult{Metadata: meta, Config: s.cfg.ioProps})
}

func (s *Server) loadTable(w http.ResponseWriter, r *http.Request) {
	ident, err := pathTable(r)
	if err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	// The "snapshots" query parameter may ask for referenced snapshots only;
	// answering with all of them is allowed.
	tbl, err := s.backend.LoadTable(r.Context(), ident)
	if err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, loadTableResult{
		MetadataLocation: tbl.MetadataLocation(),
		Metadata:         tbl.Metadata(),
		Config:           s.cfg.ioProps,
	})
}

func (s *Server) tableExists(w http.ResponseWriter, r *http.Request) {
	ident, err := pathTable(r)
	if err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	ok, err := s.backend.CheckTableExists(r.Context(), ident)
	s.writeExists(w, r, ok, err)
}

func (s *Server) dropTable(w http.ResponseWriter, r *http.Request) {
	ident, err := pathTable(r)
	if err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	if r.URL.Query().Get("purgeRequested") == "true" {
		err = s.backend.PurgeTable(r.Context(), ident)
	} else {
		err = s.backend.DropTable(r.Context(), ident)
	}
	if err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
