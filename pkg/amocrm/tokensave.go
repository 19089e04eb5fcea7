package amocrm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"kaspi-amocrm/pkg/domain"
)

// A refreshed pair is the only copy of a single-use refresh token: amoCRM
// has already spent the old one. It is kept in memory at once, saved with a
// context no caller can cancel, in a short transaction of its own, retried;
// when the database still refuses it, it is written to a 0600 recovery file
// in storage/ that the next start (or the next refresh) imports.

const (
	recoveryName    = "amocrm_token.recovery.json"
	tokenDBLockName = "amocrm_token_refresh"
	persistAttempts = 5
	persistTimeout  = 15 * time.Second
	dbLockWait      = 60 * time.Second
)

// dbLocker is the store's cross-host named lock (store.DB.TryLock).
type dbLocker interface {
	TryLock(ctx context.Context, name string) (release func(), ok bool, err error)
}

// lockRefresh takes the cross-process refresh locks: the file lock in
// storage/ and, when the token store offers one, the database's named lock
// (shared by hosts that share the database).
func (c *Client) lockRefresh(ctx context.Context) (func(), error) {
	unlockFile, err := c.lockFile(ctx)
	if err != nil {
		return nil, err
	}
	l, ok := c.cfg.Tokens.(dbLocker)
	if !ok {
		return unlockFile, nil
	}
	wctx, cancel := context.WithTimeout(ctx, dbLockWait)
	defer cancel()
	for {
		release, got, err := l.TryLock(wctx, tokenDBLockName)
		if err != nil {
			unlockFile()
			return nil, fmt.Errorf("amocrm: token lock: %w", err)
		}
		if got {
			return func() { release(); unlockFile() }, nil
		}
		select {
		case <-wctx.Done():
			unlockFile()
			return nil, fmt.Errorf("amocrm: token lock: another process holds it: %w", wctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// persistToken saves a freshly refreshed pair, replacing prev. It cannot
// be cancelled by ctx; it retries, and as a last resort writes the
// recovery file. An error means the pair is only in memory.
func (c *Client) persistToken(ctx context.Context, prev, next domain.Token) error {
	base := context.WithoutCancel(ctx)
	var err error
	for attempt := 0; attempt < persistAttempts; attempt++ {
		if attempt > 0 {
			time.Sleep(c.delay(attempt, 0))
		}
		pctx, cancel := context.WithTimeout(base, persistTimeout)
		err = c.cfg.Tokens.SaveToken(pctx, service, next)
		cancel()
		if err == nil {
			if attempt > 0 {
				c.log.WarnContext(base, "amocrm: the refreshed tokens were saved after retries", "attempts", attempt+1)
			}
			return nil
		}
		c.log.WarnContext(base, "amocrm: cannot save the refreshed tokens; retrying", "attempt", attempt+1, "error", err)
	}
	if ferr := c.writeRecovery(prev, next); ferr != nil {
		c.log.ErrorContext(base, "amocrm: the refreshed tokens are neither in the database nor in the recovery file; they live only in this process",
			"error", err, "file_error", ferr)
		return fmt.Errorf("amocrm: save refreshed tokens: %w", errors.Join(err, ferr))
	}
	c.log.ErrorContext(base, "amocrm: cannot save the refreshed tokens to the database; kept in the recovery file for the next start",
		"file", recoveryName, "error", err)
	return nil
}

// recoveryFile is the recovery file's content: the pair and the hash of
// the pair it replaced (it is imported only over that pair, never over a
// pair the owner authorised afterwards).
type recoveryFile struct {
	Service      string `json:"service"`
	Replaces     string `json:"replaces"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresAt    int64  `json:"expires_at"`
}

func (c *Client) recoveryPath() string {
	if c.cfg.LockDir == "" {
		return ""
	}
	return filepath.Join(c.cfg.LockDir, recoveryName)
}

// writeRecovery writes the file atomically with mode 0600.
func (c *Client) writeRecovery(prev, next domain.Token) error {
	path := c.recoveryPath()
	if path == "" {
		return errors.New("no storage directory for a recovery file")
	}
	b, err := json.Marshal(recoveryFile{Service: service, Replaces: envHash(prev),
		AccessToken: next.AccessToken, RefreshToken: next.RefreshToken, ExpiresAt: next.ExpiresAt})
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(c.cfg.LockDir, recoveryName+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// importRecovery brings a pair left in the recovery file into the
// database. It returns the pair to use (nil: none, the stored row is
// current). Called under the refresh locks, or on first load.
func (c *Client) importRecovery(ctx context.Context) *domain.Token {
	path := c.recoveryPath()
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		c.log.ErrorContext(ctx, "amocrm: cannot read the token recovery file", "error", err)
		return nil
	}
	var rf recoveryFile
	if err := json.Unmarshal(b, &rf); err != nil || rf.AccessToken == "" || rf.Service != service {
		c.log.ErrorContext(ctx, "amocrm: the token recovery file is unreadable; left in place", "file", recoveryName)
		return nil
	}
	saved := domain.Token{AccessToken: rf.AccessToken, RefreshToken: rf.RefreshToken, ExpiresAt: rf.ExpiresAt}
	cur, err := c.cfg.Tokens.Token(ctx, service)
	switch {
	case err == nil && samePair(cur, saved):
		_ = os.Remove(path) // already stored
		return nil
	case err == nil && envHash(cur) != rf.Replaces:
		// The row changed since (a new authorisation): the file is stale.
		c.log.WarnContext(ctx, "amocrm: the token recovery file is older than the stored tokens; removed")
		_ = os.Remove(path)
		return nil
	case err != nil && !errors.Is(err, domain.ErrNotFound):
		c.log.ErrorContext(ctx, "amocrm: cannot read tokens to import the recovery file; using the file's pair", "error", err)
		return &saved
	}
	if err := c.persistToken(ctx, cur, saved); err != nil {
		return &saved
	}
	// persistToken may have rewritten the file after failing again; only
	// a pair the database holds lets the file go.
	if got, err := c.cfg.Tokens.Token(ctx, service); err == nil && samePair(got, saved) {
		_ = os.Remove(path)
		c.log.WarnContext(ctx, "amocrm: tokens imported from the recovery file")
	}
	return &saved
}

// loadRecovery imports a recovery file left by an earlier run, under the
// refresh locks (taken only when the file exists).
func (c *Client) loadRecovery(ctx context.Context) (*domain.Token, error) {
	path := c.recoveryPath()
	if path == "" {
		return nil, nil
	}
	if _, err := os.Stat(path); err != nil {
		return nil, nil
	}
	unlock, err := c.lockRefresh(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return c.importRecovery(ctx), nil
}
