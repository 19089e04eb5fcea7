// Package domain holds the types every other package speaks in: a Kaspi
// order, the ledger row that tracks its way into amoCRM, the amoCRM
// entities the sync creates, and the interfaces the sync engine needs
// (OrderSource, CRM, Ledger). It imports only the standard library, so that
// pkg/kaspi, pkg/amocrm, pkg/store and pkg/sync depend on it and never on
// each other.
package domain
