package app

// The one constructor of the amoCRM and Kaspi clients: the sync runs, the
// web endpoints and doctor build them here, so a limiter, a token store or
// a store's token cannot be wired differently in one of them.

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"kaspi-amocrm/pkg/amocrm"
	"kaspi-amocrm/pkg/config"
	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/kaspi"
	"kaspi-amocrm/pkg/ratelimit"
	"kaspi-amocrm/pkg/web"
)

// AmoBaseURL is the amoCRM API base the config names.
func AmoBaseURL(c config.Config) (string, error) {
	base, err := amocrm.BaseURL(c.AmoSubdomain)
	if err != nil {
		return "", &config.Error{Lines: []string{"AMO_SUBDOMAIN: " + err.Error()},
			Public: []string{"AMO_SUBDOMAIN: ожидается поддомен amoCRM (shop), хост (shop.amocrm.ru) или адрес (https://shop.amocrm.ru)"}}
	}
	return base, nil
}

// amoDomains are the hosts whose first label is an account's subdomain.
var amoDomains = []string{".amocrm.ru", ".amocrm.com", ".kommo.com"}

// AmoSubdomain is the account name AMO_SUBDOMAIN gives: "shop" for shop,
// shop.amocrm.ru, https://shop.amocrm.ru or https://shop.kommo.com/. It
// is "" for any other base (a proxy, a test server): the callback then
// compares account ids instead (the one stored at the first authorization).
func AmoSubdomain(c config.Config) string {
	s := strings.ToLower(strings.TrimSpace(c.AmoSubdomain))
	if s == "" {
		return ""
	}
	if !strings.Contains(s, "://") && !strings.ContainsAny(s, "./:") {
		return s
	}
	if !strings.Contains(s, "://") {
		s = "//" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	host := u.Hostname()
	for _, d := range amoDomains {
		if sub, ok := strings.CutSuffix(host, d); ok && sub != "" && !strings.Contains(sub, ".") {
			return sub
		}
	}
	return ""
}

// Clients builds the API clients of one installation from its config.
type Clients struct {
	Config config.Config
	// Storage is storage/: the amoCRM limiter's state, the refresh lock
	// and the token marker.
	Storage  string
	Tokens   domain.TokenStore
	Settings domain.Settings
	Log      *slog.Logger
	// MarkTokens writes storage/'s token marker (web.TokenMarkerName)
	// whenever a pair is saved or found, so that oauth_callback.cgi knows
	// a token is stored without opening the database.
	MarkTokens bool
	HTTPClient *http.Client // nil: the clients' defaults
	// AmoLimiter overrides the AMO_MAX_RPS limiter (tests against the
	// sandbox run unpaced); nil: the limiter shared through Storage.
	AmoLimiter *ratelimit.Limiter
	// AmoMaxWait > 0 bounds the amoCRM client's waits for a limiter slot.
	AmoMaxWait time.Duration
	// Interactive: a person waits at the screen (doctor), so both
	// clients retry once after a short pause and Kaspi gives up sooner.
	Interactive bool
}

// Amo builds the amoCRM client: tokens and the ban in Tokens and
// Settings, the limiter's state and the refresh lock in Storage.
func (c Clients) Amo() (*amocrm.Client, error) {
	base, err := AmoBaseURL(c.Config)
	if err != nil {
		return nil, err
	}
	cfg := c.Config
	lim := c.AmoLimiter
	if lim == nil {
		lim = amocrm.NewLimiter(c.Storage, float64(cfg.AmoMaxRPS))
	}
	tokens := c.Tokens
	if c.MarkTokens {
		tokens = markingTokens{TokenStore: tokens, storage: c.Storage}
	}
	ac := amocrm.Config{
		BaseURL:         base,
		ClientID:        cfg.AmoClientID,
		ClientSecret:    cfg.AmoClientSecret.Reveal(),
		RedirectURI:     cfg.AmoRedirectURI,
		EnvAccessToken:  cfg.AmoAccessToken.Reveal(),
		EnvRefreshToken: cfg.AmoRefreshToken.Reveal(),
		EnvExpiresAt:    cfg.AmoExpiresAt,
		Tokens:          tokens,
		Settings:        c.Settings,
		Limiter:         lim,
		LockDir:         c.Storage,
		HTTPClient:      c.HTTPClient,
		Logger:          c.Log,
		MaxWait:         c.AmoMaxWait,
	}
	if c.Interactive {
		ac.Retries, ac.BackoffBase = 1, 200*time.Millisecond
	}
	return amocrm.New(ac)
}

// Kaspi builds the Kaspi client of store 1 (KASPI_API_TOKEN).
func (c Clients) Kaspi() *kaspi.Client { return c.KaspiWith(c.Config.KaspiAPIToken) }

// KaspiWith builds the Kaspi client of one store's token.
func (c Clients) KaspiWith(token config.Secret) *kaspi.Client {
	kc := kaspi.Config{BaseURL: c.Config.KaspiAPIBase, Token: token.Reveal(), HTTPClient: c.HTTPClient, Logger: c.Log}
	if c.Interactive {
		kc.MaxRetries, kc.RetryBase, kc.Timeout = 1, 200*time.Millisecond, 20*time.Second
	}
	return kaspi.New(kc)
}

// KaspiStores builds the Kaspi clients of stores 2 … 9
// (KASPI_API_TOKEN_2 … _9), by store number.
func (c Clients) KaspiStores() map[int]*kaspi.Client {
	out := map[int]*kaspi.Client{}
	for _, st := range c.Config.KaspiStores {
		if st.No != 1 {
			out[st.No] = c.KaspiWith(st.Token)
		}
	}
	return out
}

// markingTokens writes storage/'s token marker (web.TokenMarkerName)
// whenever a pair is saved or found, so that oauth_callback.cgi knows a
// token is stored without opening the database.
type markingTokens struct {
	domain.TokenStore
	storage string
}

func (m markingTokens) SaveToken(ctx context.Context, service string, t domain.Token) error {
	if err := m.TokenStore.SaveToken(ctx, service, t); err != nil {
		return err
	}
	m.mark()
	return nil
}

func (m markingTokens) Token(ctx context.Context, service string) (domain.Token, error) {
	t, err := m.TokenStore.Token(ctx, service)
	if err == nil && t.AccessToken != "" {
		m.mark()
	}
	return t, err
}

func (m markingTokens) UpdateToken(ctx context.Context, service string, fn func(cur domain.Token, found bool) (*domain.Token, error)) error {
	stored := false
	err := m.TokenStore.UpdateToken(ctx, service, func(cur domain.Token, found bool) (*domain.Token, error) {
		t, err := fn(cur, found)
		stored = err == nil && (t != nil || (found && cur.AccessToken != ""))
		return t, err
	})
	if err == nil && stored {
		m.mark()
	}
	return err
}

// mark is best effort: without the marker the callback only stays open
// to a state-less code, as before.
func (m markingTokens) mark() {
	if m.storage != "" {
		_ = web.MarkTokenStored(m.storage)
	}
}
