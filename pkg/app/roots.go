package app

// Every program of the hosting tree links this package, and most of them
// call Kaspi, amoCRM or Telegram over HTTPS. Old shared hosts carry old CA
// bundles (or none where Go looks): a bundle that lacks a root Kaspi or
// amoCRM moved to would break every call. So the programs trust the
// Mozilla list embedded at build time, always: go.mod sets
// `godebug x509usefallbackroots=1`, which makes Go prefer these roots over
// the system's.
import _ "golang.org/x/crypto/x509roots/fallback"
