// Package syncer holds the two use cases of the product: FetchNew turns
// every new Kaspi order into exactly one complete amoCRM deal, and
// Reconcile keeps those deals in step with their orders' fate. Both share
// one order processor that walks the ledger's state machine
// (new → lead_requested → lead_created → linked → done), recording each
// step before the next amoCRM call so that a crash never repeats a create.
//
// The package speaks only pkg/domain interfaces; the caller wires the
// ledger, the API clients and the run lock.
package syncer
