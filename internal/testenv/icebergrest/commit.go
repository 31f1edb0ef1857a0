package icebergrest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
)

// commitTableRequest is the spec's CommitTableRequest; the identifier is
// also in the path, which is what counts.
type commitTableRequest struct {
	Identifier   *identifier        `json:"identifier"`
	Requirements table.Requirements `json:"requirements"`
	Updates      table.Updates      `json:"updates"`
}

// commitTableResponse is the spec's CommitTableResponse.
type commitTableResponse struct {
	MetadataLocation string         `json:"metadata-location"`
	Metadata         table.Metadata `json:"metadata"`
}

// commitTable serves POST .../tables/{table}, playing out any scripted
// fault: refuse without applying, or apply and then lose the reply.
func (s *Server) commitTable(w http.ResponseWriter, r *http.Request) {
	ident, err := pathTable(r)
	if err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	var req commitTableRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		s.writeBackendError(w, r, fmt.Errorf("%w: decoding commit request: %w", errBadRequest, err))
		return
	}

	f, faulty := s.nextFault()
	if faulty && !f.apply {
		answerFault(w, r, f.status, "refused")
		return
	}

	meta, loc, err := s.commit(r.Context(), ident, req.Requirements, req.Updates)
	if err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	s.countCommit()
	if faulty {
		answerFault(w, r, f.status, "applied, reply lost")
		return
	}
	writeJSON(w, http.StatusOK, commitTableResponse{MetadataLocation: loc, Metadata: meta})
}

// commit checks the requirements against the table as it is and applies
// the updates, one commit at a time so the check still holds when the
// backend writes. A failed requirement is a conflict (table.ErrCommitFailed).
func (s *Server) commit(ctx context.Context, ident table.Identifier, reqs []table.Requirement, updates []table.Update) (table.Metadata, string, error) {
	s.commitMu.Lock()
	defer s.commitMu.Unlock()

	var current table.Metadata // nil while the table does not exist
	tbl, err := s.backend.LoadTable(ctx, ident)
	switch {
	case errors.Is(err, catalog.ErrNoSuchTable):
		if !createsTable(reqs) {
			return nil, "", fmt.Errorf("committing to %s: %w", strings.Join(ident, "."), err)
		}
	case err != nil:
		return nil, "", fmt.Errorf("loading %s: %w", strings.Join(ident, "."), err)
	default:
		current = tbl.Metadata()
	}
	for _, req := range reqs {
		if err := req.Validate(current); err != nil {
			return nil, "", fmt.Errorf("%w: %w", table.ErrCommitFailed, err)
		}
	}
	return s.backend.CommitTable(ctx, ident, reqs, updates)
}

// createsTable says whether a commit asserts that its table does not exist
// yet (the second half of a staged create).
func createsTable(reqs []table.Requirement) bool {
	for _, req := range reqs {
		if req.GetType() == "assert-create" {
			return true
		}
	}
	return false
}

// answerFault answers a scripted status, or drops the connection.
func answerFault(w http.ResponseWriter, r *http.Request, status int, what string) {
	if status == DropConnection {
		// Aborts the reply and closes the connection; net/http logs nothing.
		panic(http.ErrAbortHandler)
	}
	writeError(w, r, status, statusType(status), "injected commit fault: "+what)
}
