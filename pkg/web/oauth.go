package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"kaspi-amocrm/pkg/domain"
)

// OAuthBackend is what oauth_callback.cgi needs from the store and amoCRM.
type OAuthBackend interface {
	// Settings keeps the issued states.
	domain.Settings
	// ExchangeCode trades an authorization code for a token pair at the
	// configured API base.
	ExchangeCode(ctx context.Context, code string) (domain.Token, error)
	// AccountSubdomain calls GET /api/v4/account with tok (not the stored
	// pair) and returns the account's subdomain.
	AccountSubdomain(ctx context.Context, tok domain.Token) (string, error)
	// SaveToken stores the pair in oauth_tokens.
	SaveToken(ctx context.Context, tok domain.Token) error
}

// StateTTL is how long an issued state stays valid; amoCRM's codes live
// 20 minutes, the owner may take a while to pick the account.
const StateTTL = 30 * time.Minute

// stateKey is the settings key of the issued states: a JSON object from
// the SHA-256 of each state to its expiry (unix seconds). Only hashes are
// stored, so reading the table does not give a usable state.
const stateKey = "oauth_states"

// OAuth serves oauth_callback.cgi. amoCRM sends the owner's browser here
// (GET ?code&referer&state), or calls it itself when a widget is installed
// (from_widget=1, no state), so the callback needs no CRON_SECRET. With
// ?start=1 and the secret it begins the flow instead: a fresh state and a
// redirect to amoCRM's authorize page.
type OAuth struct {
	Secret   string
	ClientID string
	// BaseURL is the configured API base, scheme://host[:port].
	BaseURL string
	// Subdomain is the account AMO_SUBDOMAIN names; empty when its base
	// names no account (a proxy, a test server): the backend then compares
	// the account id stored at the first authorization.
	Subdomain string
	Backend   OAuthBackend
	// Gate, when set, refuses anonymous requests from files in storage/
	// before the database or amoCRM is touched; the wiring always sets it.
	Gate *OAuthGate
	Now  func() time.Time
	Log  *slog.Logger
}

func (h *OAuth) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// isErrorCode reports whether s looks like an OAuth error code
// (access_denied), safe to show back; anything else is not echoed.
func isErrorCode(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '.' || r == '-' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')) {
			return false
		}
	}
	return true
}

func (h *OAuth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet) || !parseForm(w, r) {
		return
	}
	q := r.URL.Query()
	if q.Get("start") != "" {
		h.start(w, r)
		return
	}
	if e := q.Get("error"); e != "" {
		msg := "amoCRM не выдал доступ."
		if isErrorCode(e) {
			msg = "amoCRM не выдал доступ (" + e + ")."
		}
		writeText(w, http.StatusBadRequest, msg+" Откройте авторизацию заново и нажмите «Разрешить».")
		return
	}
	code := q.Get("code")
	if code == "" {
		writeText(w, http.StatusBadRequest, "Нет параметра code. Эту страницу открывает amoCRM после авторизации; чтобы начать, откройте oauth_callback.cgi?start=1&token=CRON_SECRET.")
		return
	}
	if !IsCodeShape(code) {
		writeText(w, http.StatusBadRequest, "Параметр code не похож на код авторизации amoCRM. Начните авторизацию заново: oauth_callback.cgi?start=1&token=CRON_SECRET.")
		return
	}
	if ref := q.Get("referer"); ref != "" && !sameHost(ref, h.BaseURL) {
		writeText(w, http.StatusForbidden, "Код выдан другим аккаунтом amoCRM, чем указан в AMO_SUBDOMAIN. Проверьте AMO_SUBDOMAIN в .env или авторизуйтесь в нужном аккаунте.")
		return
	}
	state, fromWidget := q.Get("state"), q.Get("from_widget") != ""
	if msg := h.gate(r, state, fromWidget); msg != "" {
		writeText(w, http.StatusForbidden, msg)
		return
	}
	// The exchange slot is taken before the database is opened for a
	// request without a state (nothing cheaper tells it apart), and after
	// the state check otherwise, so that forged states cannot use up the
	// owner's slot.
	if state == "" && !h.takeExchange(w, r) {
		return
	}
	ctx := r.Context()
	if err := h.checkState(ctx, state, fromWidget); err != nil {
		fail(w, r, h.Log, "oauth state", err)
		return
	}
	if state != "" && !h.takeExchange(w, r) {
		return
	}
	tok, err := h.Backend.ExchangeCode(ctx, code)
	if err != nil {
		fail(w, r, h.Log, "oauth exchange", exchangeError(err))
		return
	}
	sub, err := h.Backend.AccountSubdomain(ctx, tok)
	if err != nil {
		fail(w, r, h.Log, "oauth account", accountError(err))
		return
	}
	if h.Subdomain != "" && !strings.EqualFold(sub, h.Subdomain) {
		writeText(w, http.StatusForbidden, fmt.Sprintf(
			"Токены выданы для аккаунта amoCRM «%s», а в AMO_SUBDOMAIN указан «%s». Токены не сохранены: авторизуйтесь в нужном аккаунте или исправьте .env.",
			sub, h.Subdomain))
		return
	}
	if err := h.Backend.SaveToken(ctx, tok); err != nil {
		fail(w, r, h.Log, "oauth save", err)
		return
	}
	if h.Log != nil {
		h.Log.Info("amoCRM tokens saved", slog.String("account", sub))
	}
	writeText(w, http.StatusOK, "Токены сохранены. Окно можно закрыть.")
}

// takeExchange takes the install's exchange slot or answers 429 at once.
func (h *OAuth) takeExchange(w http.ResponseWriter, r *http.Request) bool {
	if h.Gate == nil || isTrusted(r) {
		return true
	}
	err := h.Gate.TakeExchange()
	if err == nil {
		return true
	}
	if !errors.Is(err, errExchangeBusy) {
		fail(w, r, h.Log, "oauth exchange slot", &PublicError{Status: http.StatusInternalServerError, Err: err,
			Msg: "Не удалось записать файл в папку storage/: проверьте, что она существует и доступна программе на запись."})
		return false
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(ExchangeEvery/time.Second)))
	writeText(w, http.StatusTooManyRequests, "Слишком частые попытки авторизации. Подождите несколько секунд и обновите страницу.")
	return false
}

// gate refuses, from files only, a code that cannot be a pending
// authorization: without a state (or from the widget form) once tokens
// are stored and the owner has not opened ?start=1 lately; with a state
// when no state can be pending. It returns the message, "" to go on.
// Command-line runs are trusted.
func (h *OAuth) gate(r *http.Request, state string, fromWidget bool) string {
	if h.Gate == nil || isTrusted(r) {
		return ""
	}
	if state == "" || fromWidget {
		if h.Gate.AllowStateless() {
			return ""
		}
		return "Токены amoCRM уже сохранены. Чтобы авторизоваться заново, откройте oauth_callback.cgi?start=1&token=CRON_SECRET и разрешите доступ."
	}
	if h.Gate.StatesPending() {
		return ""
	}
	return "Неизвестный или просроченный state. Начните авторизацию заново: oauth_callback.cgi?start=1&token=CRON_SECRET."
}

// start issues a fresh state and sends the owner to amoCRM's authorize page.
func (h *OAuth) start(w http.ResponseWriter, r *http.Request) {
	if err := requireCronSecret(r, h.Secret); err != nil {
		fail(w, r, h.Log, "oauth start", err)
		return
	}
	if h.ClientID == "" {
		writeText(w, http.StatusInternalServerError, "AMO_CLIENT_ID не задан в .env: укажите ID интеграции из настроек amoCRM.")
		return
	}
	var b [24]byte
	rand.Read(b[:])
	state := hex.EncodeToString(b[:])
	if err := h.saveState(r.Context(), state); err != nil {
		fail(w, r, h.Log, "oauth start", err)
		return
	}
	if h.Gate != nil {
		if err := h.Gate.Started(); err != nil {
			fail(w, r, h.Log, "oauth start", fmt.Errorf("record the start of an authorization: %w", err))
			return
		}
	}
	u := AuthorizeURL(h.BaseURL) + "?" + url.Values{
		"client_id": {h.ClientID},
		"state":     {state},
		"mode":      {"post_message"},
	}.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u, http.StatusFound)
}

// AuthorizeURL is amoCRM's authorize page for the brand of base: Kommo
// accounts (kommo.com, amocrm.com) authorize at www.kommo.com, the rest at
// www.amocrm.ru.
func AuthorizeURL(base string) string {
	host := hostOf(base)
	if isLoopback(base) {
		// The sandbox (bin/sandbox) serves its own authorize page; no real
		// account lives on loopback.
		if !strings.Contains(base, "://") {
			base = "http://" + base
		}
		return strings.TrimRight(base, "/") + "/oauth"
	}
	if strings.HasSuffix(host, ".kommo.com") || strings.HasSuffix(host, ".amocrm.com") {
		return "https://www.kommo.com/oauth"
	}
	return "https://www.amocrm.ru/oauth"
}

// isLoopback reports whether base names this machine (the sandbox).
func isLoopback(base string) bool {
	if !strings.Contains(base, "://") {
		base = "//" + base
	}
	u, err := url.Parse(base)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func hostOf(s string) string {
	if !strings.Contains(s, "://") {
		s = "//" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}

// sameHost reports whether referer (a bare host as amoCRM sends it, or a
// URL) names the host of base. A port is compared only when referer has one.
func sameHost(referer, base string) bool {
	rh, bh := hostOf(strings.TrimSpace(referer)), hostOf(base)
	if rh == "" || bh == "" {
		return false
	}
	if rh == bh {
		return true
	}
	rn, rp := splitPort(rh)
	bn, _ := splitPort(bh)
	return rp == "" && rn == bn
}

func splitPort(h string) (host, port string) {
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
		return h[:i], h[i+1:]
	}
	return h, ""
}

func hashState(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func (h *OAuth) loadStates(ctx context.Context) (map[string]int64, error) {
	states := map[string]int64{}
	v, ok, err := h.Backend.Setting(ctx, stateKey)
	if err != nil {
		return nil, fmt.Errorf("read oauth states: %w", err)
	}
	if ok && v != "" {
		// A damaged value only loses pending states.
		_ = json.Unmarshal([]byte(v), &states)
	}
	now := h.now().Unix()
	for k, exp := range states {
		if exp <= now {
			delete(states, k)
		}
	}
	return states, nil
}

func (h *OAuth) storeStates(ctx context.Context, states map[string]int64) error {
	b, _ := json.Marshal(states)
	if err := h.Backend.SetSetting(ctx, stateKey, string(b)); err != nil {
		return fmt.Errorf("save oauth states: %w", err)
	}
	return nil
}

func (h *OAuth) saveState(ctx context.Context, state string) error {
	states, err := h.loadStates(ctx)
	if err != nil {
		return err
	}
	// Keep the table small: a handful of open attempts is plenty.
	for len(states) >= 20 {
		var oldest string
		for k, exp := range states {
			if oldest == "" || exp < states[oldest] {
				oldest = k
			}
		}
		delete(states, oldest)
	}
	states[hashState(state)] = h.now().Add(StateTTL).Unix()
	return h.storeStates(ctx, states)
}

// checkState accepts a state we issued and have not seen used (and uses
// it up). Without a state: the widget install form is accepted, and so is
// a code pasted by hand when no flow is pending; a browser coming back
// without the state of a flow we started is refused.
func (h *OAuth) checkState(ctx context.Context, state string, fromWidget bool) error {
	states, err := h.loadStates(ctx)
	if err != nil {
		return err
	}
	if state == "" {
		if fromWidget || len(states) == 0 {
			return nil
		}
		return Public(http.StatusForbidden, "Нет параметра state: авторизация была начата с этого сайта. Откройте oauth_callback.cgi?start=1&token=CRON_SECRET заново.")
	}
	key := hashState(state)
	if _, ok := states[key]; !ok {
		return Public(http.StatusForbidden, "Неизвестный или просроченный state. Начните авторизацию заново: oauth_callback.cgi?start=1&token=CRON_SECRET.")
	}
	delete(states, key)
	return h.storeStates(ctx, states)
}

// exchangeError summarises a failed code exchange; amoCRM's body is never shown.
func exchangeError(err error) error {
	switch {
	case errors.Is(err, domain.ErrAuth), errors.Is(err, domain.ErrBadRequest):
		return &PublicError{Status: http.StatusBadGateway, Err: err, Msg: "amoCRM отклонил код авторизации. " +
			"Код одноразовый и действует 20 минут: начните авторизацию заново. " +
			"Если не поможет, проверьте AMO_CLIENT_ID, AMO_CLIENT_SECRET и AMO_REDIRECT_URI (адрес должен совпадать с указанным в интеграции)."}
	case errors.Is(err, ErrNotConfigured):
		return &PublicError{Status: http.StatusInternalServerError, Err: err, Msg: err.Error()}
	}
	return err
}

func accountError(err error) error {
	if errors.Is(err, domain.ErrAuth) {
		return &PublicError{Status: http.StatusBadGateway, Err: err, Msg: "amoCRM выдал токен, но не принял его при проверке аккаунта. Токены не сохранены; повторите авторизацию."}
	}
	return err
}
