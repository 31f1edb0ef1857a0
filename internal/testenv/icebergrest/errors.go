package icebergrest

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
)

// errorModel is the spec's ErrorModel, sent as {"error": {...}}.
type errorModel struct {
	Message string `json:"message"`
	Type    string `json:"type"`
	Code    int    `json:"code"`
}

// errBadRequest marks a request the server could not decode or accept.
var errBadRequest = errors.New("bad request")

// errorStatus maps a backend error to the spec's status and error type.
func errorStatus(err error) (int, string) {
	switch {
	case errors.Is(err, catalog.ErrNoSuchTable):
		return http.StatusNotFound, "NoSuchTableException"
	case errors.Is(err, catalog.ErrNoSuchNamespace):
		return http.StatusNotFound, "NoSuchNamespaceException"
	case errors.Is(err, catalog.ErrTableAlreadyExists),
		errors.Is(err, catalog.ErrNamespaceAlreadyExists):
		return http.StatusConflict, "AlreadyExistsException"
	case errors.Is(err, catalog.ErrNamespaceNotEmpty):
		return http.StatusConflict, "NamespaceNotEmptyException"
	case errors.Is(err, table.ErrCommitFailed):
		return http.StatusConflict, "CommitFailedException"
	case errors.Is(err, errBadRequest), errors.Is(err, iceberg.ErrInvalidArgument):
		return http.StatusBadRequest, "BadRequestException"
	default:
		return http.StatusInternalServerError, "InternalServerError"
	}
}

// statusType names the spec's error type for a status the server was told
// to answer (FailNextCommits, LoseNextCommitReply).
func statusType(status int) string {
	switch status {
	case http.StatusConflict:
		return "CommitFailedException"
	case http.StatusServiceUnavailable:
		return "ServiceUnavailableException"
	case http.StatusBadGateway, http.StatusGatewayTimeout:
		return "CommitStateUnknownException"
	default:
		return "InternalServerError"
	}
}

// writeBackendError answers err in the spec's error model.
func (s *Server) writeBackendError(w http.ResponseWriter, r *http.Request, err error) {
	status, typ := errorStatus(err)
	if status == http.StatusInternalServerError {
		s.t.Logf("icebergrest: %s %s: %v", r.Method, r.URL.Path, err)
	}
	writeError(w, r, status, typ, err.Error())
}

// writeError answers an error in the spec's error model; a HEAD reply
// carries the status alone.
func writeError(w http.ResponseWriter, r *http.Request, status int, typ, msg string) {
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, struct {
		Error errorModel `json:"error"`
	}{errorModel{Message: msg, Type: typ, Code: status}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(struct {
			Error errorModel `json:"error"`
		}{errorModel{Message: "encoding reply: " + err.Error(), Type: "InternalServerError", Code: status}})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeExists answers a HEAD: 204 when it exists, 404 when not.
func (s *Server) writeExists(w http.ResponseWriter, r *http.Request, ok bool, err error) {
	switch {
	case err != nil:
		s.writeBackendError(w, r, err)
	case !ok:
		w.WriteHeader(http.StatusNotFound)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}
