package amocrm_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/store"
)

// flakyStore is a real database whose next token writes fail: after the
// failures are used up it behaves normally. onWrite, when set, runs before
// each token write (to cancel the caller's context, as a dying request would).
type flakyStore struct {
	*store.DB
	mu      sync.Mutex
	fail    int
	writes  int
	onWrite func()
}

var errDBDown = errors.New("database connection lost")

func (f *flakyStore) failNow() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes++
	if f.onWrite != nil {
		f.onWrite()
	}
	if f.fail > 0 {
		f.fail--
		return true
	}
	return false
}

func (f *flakyStore) SaveToken(ctx context.Context, service string, t domain.Token) error {
	if f.failNow() {
		return errDBDown
	}
	return f.DB.SaveToken(ctx, service, t)
}

func (f *flakyStore) UpdateToken(ctx context.Context, service string, fn func(domain.Token, bool) (*domain.Token, error)) error {
	return f.DB.UpdateToken(ctx, service, func(cur domain.Token, found bool) (*domain.Token, error) {
		next, err := fn(cur, found)
		if err == nil && next != nil && f.failNow() {
			return nil, errDBDown // the UPDATE fails: the transaction rolls back
		}
		return next, err
	})
}

// expiringSoon stores a pair that needs a refresh on the next call.
func expiringSoon(t *testing.T, h *harness) domain.Token {
	t.Helper()
	tok := h.issue()
	tok.ExpiresAt = time.Now().Add(time.Minute).Unix()
	if err := h.db.SaveToken(context.Background(), "amocrm", tok); err != nil {
		t.Fatal(err)
	}
	return tok
}

// A refresh succeeds, the first write of the new pair fails: the pair is
// not lost, the call goes on, the database ends up with the working pair
// and the next process spends no refresh.
func TestRefresh_PairSurvivesAFailedFirstWrite(t *testing.T) {
	for _, driver := range drivers(t) {
		t.Run(driver, func(t *testing.T) {
			h := newHarnessWith(t, driver, fakeOpts())
			ctx := ctxT(t)
			old := expiringSoon(t, h)
			flaky := &flakyStore{DB: h.db.(*store.DB), fail: 1}
			cfg := h.config()
			cfg.Tokens = flaky
			if _, err := h.client(cfg).Account(ctx); err != nil {
				t.Fatalf("the call after a refresh whose first save failed: %v", err)
			}
			if flaky.writes < 2 {
				t.Fatalf("%d token writes; the failed save is not retried", flaky.writes)
			}
			if samePair(h.storedToken(), old) {
				t.Fatal("the refreshed pair never reached the database")
			}
			h.fake.RevokeAccessTokens() // the next process must refresh with the stored refresh token
			if _, err := h.client(h.config()).Account(ctx); err != nil {
				t.Fatalf("next process: %v", err)
			}
			if g := h.fake.TokenGrants(); g != 2 {
				t.Fatalf("%d grants; want the first refresh and one with the saved refresh token", g)
			}
		})
	}
}

// The request that triggered the refresh is cancelled while the new pair
// is being saved: the save still completes.
func TestRefresh_PairSavedEvenWhenTheCallerIsCancelled(t *testing.T) {
	h := newHarness(t)
	old := expiringSoon(t, h)
	ctx, cancel := context.WithCancel(ctxT(t))
	flaky := &flakyStore{DB: h.db.(*store.DB), onWrite: cancel}
	cfg := h.config()
	cfg.Tokens = flaky
	_, _ = h.client(cfg).Account(ctx) // the call itself may fail: its context is gone
	got := h.storedToken()
	if samePair(got, old) {
		t.Fatal("a cancelled context lost the refreshed pair")
	}
	if _, err := h.client(h.config()).Account(ctxT(t)); err != nil {
		t.Fatalf("the saved pair: %v", err)
	}
	if g := h.fake.TokenGrants(); g != 1 {
		t.Fatalf("%d grants; the saved pair needs no second refresh", g)
	}
}

// The database refuses every write: the pair goes to a 0600 recovery file
// that the next start imports without spending a refresh.
func TestRefresh_RecoveryFileWhenTheDatabaseRefusesEveryWrite(t *testing.T) {
	for _, driver := range drivers(t) {
		t.Run(driver, func(t *testing.T) {
			h := newHarnessWith(t, driver, fakeOpts())
			ctx := ctxT(t)
			old := expiringSoon(t, h)
			flaky := &flakyStore{DB: h.db.(*store.DB), fail: 1000}
			cfg := h.config()
			cfg.Tokens = flaky
			c := h.client(cfg)
			if _, err := c.Account(ctx); err != nil {
				t.Fatalf("the pair in memory must keep this run going: %v", err)
			}
			if _, err := c.Users(ctx); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(h.lockDir, "amocrm_token.recovery.json")
			st, err := os.Stat(path)
			if err != nil {
				t.Fatalf("no recovery file: %v", err)
			}
			if m := st.Mode().Perm(); m != 0o600 {
				t.Fatalf("recovery file mode %o; want 600", m)
			}
			var rf struct {
				RefreshToken string `json:"refresh_token"`
			}
			b, _ := os.ReadFile(path)
			if json.Unmarshal(b, &rf) != nil || rf.RefreshToken == "" || rf.RefreshToken == old.RefreshToken {
				t.Fatal("the recovery file does not hold the new pair")
			}
			if !samePair(h.storedToken(), old) {
				t.Fatal("the database changed although every write failed")
			}

			// Next start, the database works again.
			if _, err := h.client(h.config()).Account(ctx); err != nil {
				t.Fatalf("next start: %v", err)
			}
			if g := h.fake.TokenGrants(); g != 1 {
				t.Fatalf("%d grants; the recovered pair needs no refresh", g)
			}
			if got := h.storedToken(); got.RefreshToken != rf.RefreshToken {
				t.Fatal("the recovered pair was not stored")
			}
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Fatal("the recovery file outlived its import")
			}
			h.fake.RevokeAccessTokens()
			if _, err := h.client(h.config()).Account(ctx); err != nil {
				t.Fatalf("refresh with the recovered refresh token: %v", err)
			}
		})
	}
}

// A recovery file is never imported over a pair authorised after it.
func TestRefresh_RecoveryFileOlderThanANewAuthorisationIsDropped(t *testing.T) {
	h := newHarness(t)
	ctx := ctxT(t)
	expiringSoon(t, h)
	cfg := h.config()
	cfg.Tokens = &flakyStore{DB: h.db.(*store.DB), fail: 1000}
	if _, err := h.client(cfg).Account(ctx); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(h.lockDir, "amocrm_token.recovery.json")
	if _, err := os.Stat(path); err != nil {
		t.Fatal("no recovery file")
	}
	fresh := h.issue() // the owner authorised again through the OAuth callback
	if err := h.db.SaveToken(ctx, "amocrm", fresh); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client(h.config()).Account(ctx); err != nil {
		t.Fatal(err)
	}
	if !samePair(h.storedToken(), fresh) {
		t.Fatal("a stale recovery file overwrote a newer authorisation")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("the stale recovery file was kept")
	}
}
