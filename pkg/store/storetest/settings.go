package storetest

import (
	"context"
	"errors"
	"fmt"
	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/store"
	"sync"
	"testing"
	"time"
)

// runSettingsAndTokens is the contract of the two tables shared with the
// PHP version that hold single values: settings and oauth_tokens.
func runSettingsAndTokens(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()

	t.Run("Settings_WatermarkRoundTrip", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		if _, ok, err := db.Setting(ctx, domain.SettingWatermark); err != nil || ok {
			t.Fatalf("absent key: ok=%v err=%v", ok, err)
		}
		must(t, db.SetSetting(ctx, domain.SettingWatermark, "1700000000000"))
		must(t, db.SetSetting(ctx, domain.SettingWatermark, "1700000000000")) // same value again
		must(t, db.SetSetting(ctx, domain.SettingWatermark, "1700000099999"))
		v, ok, err := db.Setting(ctx, domain.SettingWatermark)
		if err != nil || !ok || v != "1700000099999" {
			t.Fatalf("got %q ok=%v err=%v", v, ok, err)
		}
		must(t, db.SetSetting(ctx, "empty", ""))
		if v, ok, _ := db.Setting(ctx, "empty"); !ok || v != "" {
			t.Fatalf("empty value: %q %v", v, ok)
		}
	})

	t.Run("Token_SaveAndRead", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		if _, err := db.Token(ctx, domain.TokenServiceAmo); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("absent token: %v", err)
		}
		must(t, db.SaveToken(ctx, domain.TokenServiceAmo, domain.Token{AccessToken: "a1", RefreshToken: "r1", ExpiresAt: 100}))
		must(t, db.SaveToken(ctx, domain.TokenServiceAmo, domain.Token{AccessToken: "a2", RefreshToken: "r2", ExpiresAt: 200}))
		tok, err := db.Token(ctx, domain.TokenServiceAmo)
		must(t, err)
		if tok != (domain.Token{AccessToken: "a2", RefreshToken: "r2", ExpiresAt: 200}) {
			t.Fatalf("token %+v", tok)
		}
	})

	t.Run("UpdateToken_TwoConcurrentRefreshers_OneRefreshApplied", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		db2 := second(t, db)
		must(t, db.SaveToken(ctx, domain.TokenServiceAmo, domain.Token{AccessToken: "a1", RefreshToken: "r1", ExpiresAt: 100}))
		var mu sync.Mutex
		refreshes := 0
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		for i, h := range []*store.DB{db, db2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- h.UpdateToken(ctx, domain.TokenServiceAmo, func(cur domain.Token, found bool) (*domain.Token, error) {
					if !found || cur.RefreshToken != "r1" {
						return nil, nil // someone refreshed already: use theirs
					}
					// Stand in for the network call, so the other updater
					// arrives while the row is held.
					time.Sleep(50 * time.Millisecond)
					mu.Lock()
					refreshes++
					mu.Unlock()
					return &domain.Token{AccessToken: fmt.Sprintf("a2-%d", i), RefreshToken: fmt.Sprintf("r2-%d", i), ExpiresAt: 200}, nil
				})
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			must(t, err)
		}
		if refreshes != 1 {
			t.Fatalf("%d refreshes applied, want exactly 1", refreshes)
		}
		tok, _ := db.Token(ctx, domain.TokenServiceAmo)
		if tok.RefreshToken != "r2-0" && tok.RefreshToken != "r2-1" {
			t.Fatalf("token %+v", tok)
		}
	})

	t.Run("UpdateToken_FnErrorSavesNothing_AbsentRowInserted", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		boom := errors.New("refresh rejected")
		err := db.UpdateToken(ctx, domain.TokenServiceAmo, func(cur domain.Token, found bool) (*domain.Token, error) {
			if found {
				t.Error("found a row in an empty table")
			}
			return &domain.Token{AccessToken: "x"}, boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("fn error not returned: %v", err)
		}
		if _, err := db.Token(ctx, domain.TokenServiceAmo); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("saved despite error: %v", err)
		}
		must(t, db.UpdateToken(ctx, domain.TokenServiceAmo, func(domain.Token, bool) (*domain.Token, error) {
			return &domain.Token{AccessToken: "a", RefreshToken: "r", ExpiresAt: 1}, nil
		}))
		if tok, _ := db.Token(ctx, domain.TokenServiceAmo); tok.AccessToken != "a" {
			t.Fatalf("token %+v", tok)
		}
	})
}
