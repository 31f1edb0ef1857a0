package icebergrest

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
)

// authRequired says whether requests need a bearer token.
func (s *Server) authRequired() bool {
	return s.cfg.token != "" || s.cfg.clientID != "" || s.cfg.clientSecret != ""
}

// authorized checks the request's bearer token against the configured one
// and those the token endpoint issued.
func (s *Server) authorized(r *http.Request) bool {
	if !s.authRequired() {
		return true
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return false
	}
	if s.cfg.token != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.token)) == 1 {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens[tok]
}

// requireAuth wraps h so unauthenticated requests get the spec's 401.
func (s *Server) requireAuth(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(r) {
			writeError(w, r, http.StatusUnauthorized, "NotAuthorizedException", "missing or invalid bearer token")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// tokenResponse is the OAuth2 token endpoint's answer (RFC 6749 5.1, plus
// the issued_token_type of RFC 8693 that the Iceberg spec includes).
type tokenResponse struct {
	AccessToken     string `json:"access_token"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int    `json:"expires_in"`
	IssuedTokenType string `json:"issued_token_type"`
}

// oauthError is the token endpoint's error body (RFC 6749 5.2).
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// handleToken serves POST /v1/oauth/tokens for the client_credentials grant,
// with the credentials in the form (as iceberg-go sends them) or in Basic auth.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "unreadable form")
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "client_credentials" {
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "only client_credentials is supported")
		return
	}
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if s.cfg.clientSecret == "" ||
		subtle.ConstantTimeCompare([]byte(id), []byte(s.cfg.clientID)) != 1 ||
		subtle.ConstantTimeCompare([]byte(secret), []byte(s.cfg.clientSecret)) != 1 {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "unknown client or wrong secret")
		return
	}

	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	tok := hex.EncodeToString(b[:])
	s.mu.Lock()
	s.tokens[tok] = true
	s.mu.Unlock()

	writeJSON(w, http.StatusOK, tokenResponse{
		AccessToken:     tok,
		TokenType:       "bearer",
		ExpiresIn:       3600,
		IssuedTokenType: "urn:ietf:params:oauth:token-type:access_token",
	})
}

func writeOAuthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(oauthError{Error: code, Description: desc})
}
