package web

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gofrs/flock"
)

// Files of the OAuth gate in storage/. They let oauth_callback.cgi refuse
// an anonymous request before it opens the database or calls amoCRM.
const (
	// TokenMarkerName exists once amoCRM tokens are stored (it is written
	// with the tokens, see MarkTokenStored).
	TokenMarkerName = "amocrm_token_stored"
	// startName holds the time (unix ms) the owner last opened ?start=1.
	startName = "oauth_start"
	// exchangeName holds the time (unix ms) of the last code exchange.
	exchangeName = "oauth_exchange"
)

// Gate timings.
const (
	// StartWindow is how long after ?start=1 a code without a state (a
	// widget install, a code pasted by hand) is accepted once tokens are
	// stored.
	StartWindow = 15 * time.Minute
	// ExchangeEvery is the least time between two code exchanges of one
	// install; requests in between are refused with 429 at once.
	ExchangeEvery = 5 * time.Second
	// CodeMinLen and CodeMaxLen bound an authorization code.
	CodeMinLen, CodeMaxLen = 20, 4096
)

// IsCodeShape reports whether s looks like an amoCRM authorization code:
// 20–4096 characters of [A-Za-z0-9._~-].
func IsCodeShape(s string) bool {
	if len(s) < CodeMinLen || len(s) > CodeMaxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '~' || c == '-') {
			return false
		}
	}
	return true
}

// MarkTokenStored writes the marker that tokens are stored in the
// database. The wiring calls it whenever it saves or finds a token pair.
func MarkTokenStored(storage string) error {
	p := filepath.Join(storage, TokenMarkerName)
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	return os.WriteFile(p, []byte(strconv.FormatInt(time.Now().Unix(), 10)+"\n"), 0o600)
}

// OAuthGate is the cheap part of the callback's checks: files in
// storage/, no database, no HTTP.
type OAuthGate struct {
	Storage string           // storage/
	Now     func() time.Time // nil: time.Now
}

func (g *OAuthGate) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

// TokenStored reports whether the token marker exists.
func (g *OAuthGate) TokenStored() bool {
	_, err := os.Stat(filepath.Join(g.Storage, TokenMarkerName))
	return err == nil
}

func readUnix(path string) (time.Time, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}, false
	}
	return time.UnixMilli(n), true
}

func writeUnix(path string, t time.Time) error {
	return os.WriteFile(path, []byte(strconv.FormatInt(t.UnixMilli(), 10)+"\n"), 0o600)
}

// Started records that the owner opened ?start=1 (with the secret).
func (g *OAuthGate) Started() error { return writeUnix(filepath.Join(g.Storage, startName), g.now()) }

// startedWithin reports whether ?start=1 was opened less than d ago.
func (g *OAuthGate) startedWithin(d time.Duration) bool {
	t, ok := readUnix(filepath.Join(g.Storage, startName))
	if !ok {
		return false
	}
	age := g.now().Sub(t)
	return age >= -time.Minute && age < d
}

// AllowStateless reports whether a code without a state may be exchanged:
// while no token is stored, or shortly after the owner opened ?start=1.
func (g *OAuthGate) AllowStateless() bool {
	return !g.TokenStored() || g.startedWithin(StartWindow)
}

// StatesPending reports whether a state may be pending at all: states are
// issued only by ?start=1 and live StateTTL.
func (g *OAuthGate) StatesPending() bool { return g.startedWithin(StateTTL) }

// errExchangeBusy: another exchange took the install's slot.
var errExchangeBusy = errors.New("another code exchange a moment ago")

// TakeExchange reserves the install's exchange slot: at most one exchange
// every ExchangeEvery; otherwise errExchangeBusy at once, without waiting.
func (g *OAuthGate) TakeExchange() error {
	path := filepath.Join(g.Storage, exchangeName)
	fl := flock.New(path + ".lock")
	ok, err := fl.TryLock()
	if err != nil {
		return err
	}
	if !ok {
		return errExchangeBusy
	}
	defer fl.Unlock()
	now := g.now()
	if last, ok := readUnix(path); ok && now.Sub(last) < ExchangeEvery && now.Sub(last) > -time.Minute {
		return errExchangeBusy
	}
	return writeUnix(path, now)
}
