package amofake

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// codeTTL is how long an authorization code is valid (about 20 minutes).
const codeTTL = 20 * time.Minute

type accessToken struct {
	expires  time.Time
	longLife bool
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newAccess mints a JWT-shaped access token carrying the claims the
// reference describes (the signature is not a real one). Caller holds mu.
func (s *Server) newAccess(ttl time.Duration, longLife bool) (string, time.Time) {
	now := s.now()
	exp := now.Add(ttl)
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"typ":"JWT","alg":"RS256"}`))
	claims, _ := json.Marshal(map[string]any{
		"aud": s.opts.ClientID, "jti": randomHex(20), "iat": now.Unix(), "nbf": now.Unix(),
		"exp": exp.Unix(), "sub": UserID, "account_id": AccountID,
		"base_domain": "amocrm.ru", "api_domain": "api-b.amocrm.ru",
		"scopes": []string{"crm", "notifications"},
	})
	tok := header + "." + enc.EncodeToString(claims) + "." + enc.EncodeToString([]byte(randomHex(32)))
	s.access[tok] = accessToken{expires: exp, longLife: longLife}
	return tok, exp
}

// newRefresh mints a refresh token paired with an access token. Caller holds mu.
func (s *Server) newRefresh(access string) string {
	tok := "def50200" + randomHex(60)
	s.refresh[tok] = &refreshToken{valid: true, access: access}
	return tok
}

type refreshToken struct {
	valid  bool
	access string // the access token issued with it
}

// IssueTokens returns a fresh access/refresh pair, as if the owner had just
// authorized the integration, and the access token's expiry.
func (s *Server) IssueTokens() (access, refresh string, expiresAt time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	access, expiresAt = s.newAccess(s.opts.AccessTTL, false)
	return access, s.newRefresh(access), expiresAt
}

// IssueLongLivedToken returns a long-lived access token (no refresh token).
func (s *Server) IssueLongLivedToken(ttl time.Duration) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok, _ := s.newAccess(ttl, true)
	return tok
}

// IssueCode returns a single-use authorization code valid for 20 minutes,
// as the integration's "Keys and scopes" tab shows one.
func (s *Server) IssueCode() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	code := "def50200" + randomHex(40)
	s.codes[code] = s.now().Add(codeTTL)
	return code
}

// RevokeAccessTokens makes every issued access token invalid (the owner
// disconnected the integration, or the tokens expired).
func (s *Server) RevokeAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.access = map[string]accessToken{}
}

// RevokeAll kills every access and refresh token.
func (s *Server) RevokeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.access = map[string]accessToken{}
	for _, rt := range s.refresh {
		rt.valid = false
	}
}

// TokenGrants counts successful calls of the token endpoint.
func (s *Server) TokenGrants() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.grants
}

// authorize checks the Bearer token of an API call.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) bool {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	s.mu.Lock()
	at, known := s.access[strings.TrimSpace(tok)]
	valid := ok && known && s.now().Before(at.expires)
	s.mu.Unlock()
	if !valid {
		problem(w, http.StatusUnauthorized, "Unauthorized")
		return false
	}
	return true
}

func oauthProblem(w http.ResponseWriter, status int, title, hint string) {
	body := map[string]any{
		"title":  title,
		"type":   "https://developers.amocrm.ru/v3/errors/OAuthProblemJson",
		"status": status,
		"detail": "В запросе отсутствует ряд параметров или параметры невалидны",
	}
	if hint != "" {
		body["hint"] = hint
	}
	writeProblem(w, status, body)
}

// handleToken is POST /oauth2/access_token. It takes a JSON body (the
// documented form) or a form-encoded one (what the PHP league client sends).
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	p := map[string]string{}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if err := r.ParseForm(); err != nil {
			oauthProblem(w, http.StatusBadRequest, "Некорректный запрос", "Malformed body")
			return
		}
		for k := range r.PostForm {
			p[k] = r.PostForm.Get(k)
		}
	} else {
		v, err := decodeJSON(r)
		obj, isObj := v.(map[string]any)
		if err != nil || !isObj {
			oauthProblem(w, http.StatusBadRequest, "Некорректный запрос", "Malformed body")
			return
		}
		for k, val := range obj {
			if str, ok := val.(string); ok {
				p[k] = str
			}
		}
	}
	if p["client_id"] != s.opts.ClientID || p["client_secret"] != s.opts.ClientSecret {
		oauthProblem(w, http.StatusUnauthorized, "Некорректный клиент", "")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	switch p["grant_type"] {
	case "authorization_code":
		if p["redirect_uri"] != s.opts.RedirectURI {
			oauthProblem(w, http.StatusBadRequest, "Некорректный запрос", "Redirect URI mismatch")
			return
		}
		exp, ok := s.codes[p["code"]]
		if !ok {
			oauthProblem(w, http.StatusBadRequest, "Некорректный запрос", "Authorization code has been revoked")
			return
		}
		delete(s.codes, p["code"]) // single use, even when expired
		if !now.Before(exp) {
			oauthProblem(w, http.StatusBadRequest, "Некорректный запрос", "Authorization code has expired")
			return
		}
	case "refresh_token":
		if uri, sent := p["redirect_uri"]; sent && uri != s.opts.RedirectURI {
			oauthProblem(w, http.StatusBadRequest, "Некорректный запрос", "Redirect URI mismatch")
			return
		}
		rt := s.refresh[p["refresh_token"]]
		if rt == nil || !rt.valid {
			oauthProblem(w, http.StatusUnauthorized, "Некорректный запрос", "Token has been revoked")
			return
		}
		// Single use: the old refresh token dies now and, as in the OAuth
		// server library amoCRM runs on, so does the access token issued
		// with it.
		rt.valid = false
		delete(s.access, rt.access)
	default:
		oauthProblem(w, http.StatusBadRequest, "Некорректный запрос", "Unsupported grant type")
		return
	}
	access, _ := s.newAccess(s.opts.AccessTTL, false)
	s.grants++
	w.Header().Set("Content-Type", "application/json")
	body, _ := json.Marshal(map[string]any{
		"token_type":    "Bearer",
		"expires_in":    int64(s.opts.AccessTTL / time.Second),
		"access_token":  access,
		"refresh_token": s.newRefresh(access),
		"server_time":   now.Unix(),
	})
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
