package syncer

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"kaspi-amocrm/pkg/domain"
)

// Config is what the use cases read from .env and the command line.
// An id of 0 means "not set".
type Config struct {
	PipelineID                 int64
	StatusID                   int64
	ResponsibleUserID          int64
	CatalogID                  int64 // 0 = no products
	OrderCodeFieldID           int64
	ContactAddressFieldID      int64
	LeadDeliveryAddressFieldID int64
	LeadOrderDateFieldID       int64

	DefaultCountry string   // phone normalisation, "KZ" when empty
	ImportStates   []string // Kaspi states whose orders become deals
	Lookback       time.Duration
	Budget         time.Duration // wall time of one run (50 s when 0)

	// Stores are the Kaspi stores, store 1 first (its values are the ones
	// above). Empty: one store made of the values above.
	Stores []Store

	// StatusMap is AMO_STATUS_MAP (Kaspi status or state → amoCRM status of
	// PipelineID); it wins over the database's status_mapping rows.
	StatusMap map[string]int64
	// Warnings are reasons the run is warn before it starts (a setting
	// worth fixing that does not stop the work); each is added to the
	// run's result with Summary.AddWarning, in order.
	Warnings []string

	SnapshotRetention time.Duration // 0 keeps snapshots forever
	DryRun            bool
	Since             time.Time // backfill start (fetch_new --since)
	Limit             int       // most orders processed by one run, 0 = no limit

	// RefreshEvery is how often reconcile asks Kaspi, by code, about an
	// open order its 14-day sweep does not return (1 h when 0);
	// RefreshLimit bounds those lookups per run (50 when 0).
	RefreshEvery time.Duration
	RefreshLimit int

	// AutoAccept (KASPI_AUTO_ACCEPT) accepts in Kaspi every order waiting
	// for the merchant once its deal is complete.
	AutoAccept bool
	// Actions are the stage actions (KASPI_ACTIONS and its settings);
	// ConfirmActions lets a run take more than Actions.MaxPerRun of them
	// (--confirm-actions).
	Actions        domain.ActionSettings
	ConfirmActions bool

	// ContactIndexMax is AMO_CONTACT_INDEX_MAX: the phone index is built
	// for accounts of at most this many contacts (0: no index, one search
	// per new phone).
	ContactIndexMax int

	// ReturnWindow is how long a completed order stays tracked for a
	// return, counted from when the sync first saw it completed
	// (KASPI_RETURN_WINDOW_DAYS; 30 days when 0, none when negative).
	ReturnWindow time.Duration
}

// Defaults the config leaves to us.
const (
	defaultBudget       = 50 * time.Second
	defaultRefreshEvery = time.Hour
	defaultRefreshLimit = 50
	defaultReturnWindow = 30 * 24 * time.Hour
	// windowMs is the widest creationDate range Kaspi answers in one
	// request ($le − $ge below 14 days): ranges of this width cost one
	// request per page.
	windowMs    = 14*24*60*60*1000 - 1
	ingestChunk = 100
)

// DefaultImportStates are the Kaspi states fetch_new imports when none are
// configured.
var DefaultImportStates = []string{domain.StateNew, domain.StatePickup, domain.StateDelivery, domain.StateKaspiDelivery}

// Deps are the run's collaborators. Logger, Now and Out may be nil.
type Deps struct {
	Ledger domain.Ledger
	CRM    domain.CRM
	Kaspi  domain.OrderSource
	Logger *slog.Logger
	Now    func() time.Time
	Out    io.Writer // progress, dry-run and set-aside lines for the operator
	// Actions and Writer are needed when Kaspi actions are configured
	// (AutoAccept, and with stage actions a domain.StageLedger and a
	// domain.StageActions): the action ledger and the Kaspi client that
	// writes.
	Actions domain.KaspiActions
	Writer  domain.OrderWriter
	// Stores are the Kaspi clients of stores 2 … 9 by number (Kaspi and
	// Writer above are store 1's).
	Stores map[int]StoreClient
}

// requestCounter is implemented by API clients that count the HTTP
// requests they made (retries and pages included). Without it the
// summary counts method calls.
type requestCounter interface {
	Requests() int
}

// Summary is the outcome of one run.
type Summary struct {
	Task         string
	Found        int // orders new to the ledger
	Created      int // deals created (or adopted after an ambiguous create)
	Retried      int // of Created: deals of orders that earlier runs had found
	Pending      int // orders still on their way to a deal (incl. waiting for a retry)
	Failed       int // orders set aside by this run
	Quarantined  int // orders in quarantine
	Rejected     int // Kaspi orders of a bad shape set aside by this run (each reported once)
	Moved        int // reconcile: deals moved to another status
	Notes        int // reconcile: change notes written
	Refreshed    int // reconcile: open orders looked up by code
	Accepted     int // orders accepted in Kaspi (KASPI_AUTO_ACCEPT)
	KaspiRefused int // Kaspi actions Kaspi refused
	KaspiActions int // stage actions done or under way (KASPI_ACTIONS)
	AmoRequests  int64
	KaspiReqs    int64
	Seconds      float64
	// Result is what the run tells the owner: ok, warn (orders set aside,
	// a listing refused) or error (the run was stopped); Reasons says why,
	// the first one first. AddWarning adds to them.
	Result  domain.Result
	Reasons []string
}

// String is the run's one summary line (Russian, for the owner and the
// run log): the task, then Counts.
func (s Summary) String() string { return s.Task + ": " + s.Counts() }

// countingCRM counts calls when the client does not count its requests.
type countingCRM struct {
	domain.CRM
	calls atomic.Int64
}

func (c *countingCRM) SearchContacts(ctx context.Context, q string) ([]domain.Contact, error) {
	c.calls.Add(1)
	return c.CRM.SearchContacts(ctx, q)
}
func (c *countingCRM) CreateContacts(ctx context.Context, cs []domain.Contact) ([]domain.Contact, error) {
	c.calls.Add(1)
	return c.CRM.CreateContacts(ctx, cs)
}
func (c *countingCRM) SearchElements(ctx context.Context, cat int64, q string) ([]domain.Element, error) {
	c.calls.Add(1)
	return c.CRM.SearchElements(ctx, cat, q)
}
func (c *countingCRM) CreateElements(ctx context.Context, cat int64, es []domain.Element) ([]domain.Element, error) {
	c.calls.Add(1)
	return c.CRM.CreateElements(ctx, cat, es)
}
func (c *countingCRM) SearchLeads(ctx context.Context, q string) ([]domain.Lead, error) {
	c.calls.Add(1)
	return c.CRM.SearchLeads(ctx, q)
}
func (c *countingCRM) GetLeads(ctx context.Context, ids []int64) ([]domain.Lead, error) {
	c.calls.Add(1)
	return c.CRM.GetLeads(ctx, ids)
}
func (c *countingCRM) LeadsInStagesPage(ctx context.Context, stages []domain.StageRef, from int64, filter bool, page int) ([]domain.Lead, bool, error) {
	c.calls.Add(1)
	return c.CRM.LeadsInStagesPage(ctx, stages, from, filter, page)
}
func (c *countingCRM) CreateLeads(ctx context.Context, ls []domain.Lead) ([]domain.Lead, error) {
	c.calls.Add(1)
	return c.CRM.CreateLeads(ctx, ls)
}
func (c *countingCRM) UpdateLeads(ctx context.Context, us []domain.LeadUpdate) error {
	c.calls.Add(1)
	return c.CRM.UpdateLeads(ctx, us)
}
func (c *countingCRM) LinkElements(ctx context.Context, ls []domain.Link) error {
	c.calls.Add(1)
	return c.CRM.LinkElements(ctx, ls)
}
func (c *countingCRM) AddNotes(ctx context.Context, ns []domain.Note) error {
	c.calls.Add(1)
	return c.CRM.AddNotes(ctx, ns)
}
func (c *countingCRM) CustomFields(ctx context.Context, entity string) ([]domain.FieldDef, error) {
	c.calls.Add(1)
	return c.CRM.CustomFields(ctx, entity)
}

type countingKaspi struct {
	domain.OrderSource
	calls atomic.Int64
}

func (k *countingKaspi) ListOrders(ctx context.Context, state string, from, to int64, fn func(domain.Order) error) error {
	k.calls.Add(1)
	return k.OrderSource.ListOrders(ctx, state, from, to, fn)
}
func (k *countingKaspi) OrderByCode(ctx context.Context, code string) (domain.Order, error) {
	k.calls.Add(1)
	return k.OrderSource.OrderByCode(ctx, code)
}

// requestMeter reads a client's own request counter when it has one, and
// the call count otherwise, as a delta since the run started.
type requestMeter struct {
	own   requestCounter
	base  int64
	calls *atomic.Int64
}

func newMeter(client any, calls *atomic.Int64) requestMeter {
	m := requestMeter{calls: calls}
	if rc, ok := client.(requestCounter); ok {
		m.own, m.base = rc, int64(rc.Requests())
	}
	return m
}

func (m requestMeter) count() int64 {
	if m.own != nil {
		return int64(m.own.Requests()) - m.base
	}
	return m.calls.Load()
}

func (c *countingCRM) LeadNotes(ctx context.Context, leadID int64) ([]domain.Note, error) {
	c.calls.Add(1)
	return c.CRM.LeadNotes(ctx, leadID)
}
