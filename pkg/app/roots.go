package app

// Every program of the hosting tree links this package, and most of them
// call Kaspi, amoCRM or Telegram over HTTPS. Old shared hosts may have no
// CA bundle where Go looks for one; the fallback roots (Mozilla's list,
// embedded at build time) are then used instead of failing every call.
// A host whose bundle Go finds keeps using it.
import _ "golang.org/x/crypto/x509roots/fallback"
