// Package sandbox serves the fake Kaspi and amoCRM APIs side by side on
// loopback ports, for manual tries and the demo: the integration is pointed
// at them through .env, and an admin endpoint on the amoCRM port
// (/_sandbox/...) lets the demo move Kaspi orders, look at what arrived in
// amoCRM and read the request statistics.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"kaspi-amocrm/pkg/sandbox/amofake"
	"kaspi-amocrm/pkg/sandbox/kaspifake"
	"kaspi-amocrm/pkg/sandbox/orders"
)

// DefaultKaspiToken is the Kaspi token the sandbox accepts unless told otherwise.
const DefaultKaspiToken = "sandbox-kaspi-token"

// Config configures a sandbox. Zero values take the defaults noted.
type Config struct {
	KaspiAddr  string // listen address of the fake Kaspi; 127.0.0.1:0
	AmoAddr    string // listen address of the fake amoCRM; 127.0.0.1:0
	KaspiToken string // DefaultKaspiToken
	// KaspiStores is how many Kaspi stores the fake Kaspi serves at its
	// one address (1); store n > 1 has the token KaspiToken-n and its
	// own orders, and the generated orders are dealt out among the stores.
	KaspiStores int
	// SeedOrders is how many generated orders the fake Kaspi starts with,
	// created over the last SeedDays days (3).
	SeedOrders int
	SeedDays   int
	Seed       int64 // generator seed
	// AmoRPS is the fake amoCRM's requests-per-second limit (7; negative
	// disables it).
	AmoRPS int
	// AmoBanDuration is how long the fake amoCRM stays banned (one hour;
	// /_sandbox/unban lifts it).
	AmoBanDuration time.Duration
	// RedirectURI is the integration's redirect URI registered at the fake
	// amoCRM (amofake.DefaultRedirectURI): the address of the install's
	// oauth_callback.cgi, where its authorize page sends the owner back.
	RedirectURI string
	Now         func() time.Time // time.Now
}

// Sandbox is a running pair of fakes.
type Sandbox struct {
	Kaspi *kaspifake.Server // store 1
	// KaspiStores are every store's fake, store 1 (Kaspi) first.
	KaspiStores []*kaspifake.Server

	Amo      *amofake.Server
	KaspiURL string // API base for KASPI_API_BASE
	AmoURL   string // account base for AMO_SUBDOMAIN

	cfg      Config
	servers  []*http.Server
	mu       sync.Mutex
	seeded   int   // batches generated so far
	dealt    int   // orders generated so far (dealt out among the stores)
	nextCode int64 // the next free order code
}

// Start listens on both addresses and serves the fakes until Close.
func Start(cfg Config) (*Sandbox, error) {
	if cfg.KaspiAddr == "" {
		cfg.KaspiAddr = "127.0.0.1:0"
	}
	if cfg.AmoAddr == "" {
		cfg.AmoAddr = "127.0.0.1:0"
	}
	if cfg.KaspiToken == "" {
		cfg.KaspiToken = DefaultKaspiToken
	}
	if cfg.SeedDays <= 0 {
		cfg.SeedDays = 3
	}
	cfg.KaspiStores = min(max(cfg.KaspiStores, 1), 9)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	sb := &Sandbox{
		cfg:   cfg,
		Kaspi: kaspifake.New(kaspifake.Options{Token: cfg.KaspiToken, Now: cfg.Now, Seed: cfg.Seed}),
		Amo:   amofake.New(amofake.Options{RPS: cfg.AmoRPS, BanDuration: cfg.AmoBanDuration, RedirectURI: cfg.RedirectURI, Now: cfg.Now}),
	}
	sb.KaspiStores = []*kaspifake.Server{sb.Kaspi}
	for n := 2; n <= cfg.KaspiStores; n++ {
		sb.KaspiStores = append(sb.KaspiStores, kaspifake.New(kaspifake.Options{Token: sb.StoreToken(n), Now: cfg.Now, Seed: cfg.Seed + int64(n)}))
	}
	kl, err := net.Listen("tcp", cfg.KaspiAddr)
	if err != nil {
		return nil, fmt.Errorf("sandbox: listen for kaspi on %s: %w", cfg.KaspiAddr, err)
	}
	al, err := net.Listen("tcp", cfg.AmoAddr)
	if err != nil {
		kl.Close()
		return nil, fmt.Errorf("sandbox: listen for amocrm on %s: %w", cfg.AmoAddr, err)
	}
	sb.KaspiURL = "http://" + kl.Addr().String() + "/shop/api/v2"
	sb.AmoURL = "http://" + al.Addr().String()
	if cfg.SeedOrders > 0 {
		sb.AddOrders(cfg.SeedOrders, time.Duration(cfg.SeedDays)*24*time.Hour)
	}
	amo := http.NewServeMux()
	amo.Handle("/_sandbox/", sb.adminHandler())
	amo.Handle("/oauth", sb.authorizePage())
	amo.Handle("/", sb.Amo)
	for _, pair := range []struct {
		l net.Listener
		h http.Handler
	}{{kl, kaspifake.Stores(sb.KaspiStores...)}, {al, amo}} {
		srv := &http.Server{Handler: pair.h, ReadHeaderTimeout: 10 * time.Second}
		sb.servers = append(sb.servers, srv)
		go func(l net.Listener) { _ = srv.Serve(l) }(pair.l)
	}
	return sb, nil
}

// StoreToken is the Kaspi token of store n (1: KaspiToken).
func (sb *Sandbox) StoreToken(n int) string {
	if n <= 1 {
		return sb.cfg.KaspiToken
	}
	return sb.cfg.KaspiToken + "-" + strconv.Itoa(n)
}

// storeOf is the fake store holding an order code (store 1 when none does).
func (sb *Sandbox) storeOf(code string) *kaspifake.Server {
	for _, k := range sb.KaspiStores {
		if _, ok := k.Order(code); ok {
			return k
		}
	}
	return sb.Kaspi
}

// Close stops both servers.
func (sb *Sandbox) Close(ctx context.Context) error {
	var errs []error
	for _, srv := range sb.servers {
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// AddOrders generates n more orders created within the last span and adds
// them to the fake Kaspi. Every batch sells the same products to the same
// pool of buyers, so later orders come from repeat customers. It returns their
// codes.
func (sb *Sandbox) AddOrders(n int, span time.Duration) []string {
	if n <= 0 {
		return nil
	}
	sb.mu.Lock()
	defer sb.mu.Unlock()
	now := sb.cfg.Now()
	if sb.nextCode == 0 {
		sb.nextCode = 600_000_000 + (sb.cfg.Seed%1000+1000)%1000*100_000
	}
	batch := orders.Generate(orders.Spec{
		N:        n,
		Phones:   max(30, sb.cfg.SeedOrders*2/3),
		Seed:     sb.cfg.Seed + int64(sb.seeded),
		PoolSeed: sb.cfg.Seed,
		From:     now.Add(-span),
		To:       now,
		CodeBase: sb.nextCode,
	})
	sb.seeded++
	defer func() { sb.dealt += len(batch) }()
	codes := make([]string, len(batch))
	for i, o := range batch {
		sb.KaspiStores[(sb.dealt+i)%len(sb.KaspiStores)].AddOrder(o)
		codes[i] = o.Code
		if c, err := strconv.ParseInt(o.Code, 10, 64); err == nil && c >= sb.nextCode {
			sb.nextCode = c + 1
		}
	}
	return codes
}

// EnvLines returns the .env lines that point the integration at the
// sandbox, with a fresh token pair and authorization code.
func (sb *Sandbox) EnvLines() string {
	access, refresh, expires := sb.Amo.IssueTokens()
	code := sb.Amo.IssueCode()
	o := sb.Amo.Options()
	host := strings.TrimPrefix(sb.AmoURL, "http://")
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("# Sandbox: fake Kaspi and amoCRM on this machine.")
	line("KASPI_API_BASE=%s", sb.KaspiURL)
	line("KASPI_API_TOKEN=%s", sb.cfg.KaspiToken)
	if len(sb.KaspiStores) > 1 {
		line("KASPI_STORE_NAME=Магазин 1")
		for n := 2; n <= len(sb.KaspiStores); n++ {
			line("KASPI_API_TOKEN_%d=%s", n, sb.StoreToken(n))
			line("KASPI_STORE_NAME_%d=Магазин %d", n, n)
		}
	}
	line("AMO_SUBDOMAIN=%s", sb.AmoURL)
	line("AMO_CLIENT_ID=%s", o.ClientID)
	line("AMO_CLIENT_SECRET=%s", o.ClientSecret)
	line("AMO_REDIRECT_URI=%s", o.RedirectURI)
	line("# Either paste this token pair, or exchange the code (valid 20 minutes, single use)")
	line("# through the OAuth callback: oauth_callback.cgi?code=%s&referer=%s&from_widget=1", code, host)
	line("AMO_ACCESS_TOKEN=%s", access)
	line("AMO_REFRESH_TOKEN=%s", refresh)
	line("AMO_EXPIRES_AT=%d", expires.Unix())
	line("AMO_PIPELINE_ID=%d", amofake.PipelineID)
	line("AMO_STATUS_ID=%d", amofake.StatusNewOrder)
	line("AMO_RESPONSIBLE_USER_ID=%d", amofake.UserID)
	line("AMO_CATALOG_ID=%d", amofake.CatalogID)
	line("AMO_LEAD_ORDER_CODE_FIELD_ID=%d", amofake.LeadOrderCodeFieldID)
	line("AMO_CONTACT_ADDRESS_FIELD_ID=%d", amofake.ContactAddressFieldID)
	line("AMO_LEAD_DELIVERY_ADDRESS_FIELD_ID=%d", amofake.LeadAddressFieldID)
	line("AMO_LEAD_ORDER_DATE_FIELD_ID=%d", amofake.LeadOrderDateTimeFieldID)
	line("AMO_STATUS_MAP=APPROVED_BY_BANK:%d,ACCEPTED_BY_MERCHANT:%d,KASPI_DELIVERY:%d,COMPLETED:%d,CANCELLED:%d,RETURNED:%d",
		amofake.StatusNewOrder, amofake.StatusConfirmed, amofake.StatusInDelivery,
		amofake.StatusWon, amofake.StatusLost, amofake.StatusLost)
	line("# Admin: %s/_sandbox/", sb.AmoURL)
	line("# Авторизация как в шаге 5 INSTALL.md: откройте oauth_callback.cgi?start=1&token=CRON_SECRET —")
	line("# откроется страница разрешения этой песочницы (%s/oauth), она вернёт вас на AMO_REDIRECT_URI", sb.AmoURL)
	line("# (адрес вашего oauth_callback.cgi задаётся флагом --redirect-uri).")
	line("# Заказы: --seed-orders N при запуске; новые заказы в любой момент:")
	line("#   curl -X POST '%s/_sandbox/orders/new?n=5'", sb.AmoURL)
	line("# Сменить статус заказа: curl -X POST '%s/_sandbox/orders/status?code=КОД&state=ARCHIVE&status=COMPLETED'", sb.AmoURL)
	return b.String()
}
