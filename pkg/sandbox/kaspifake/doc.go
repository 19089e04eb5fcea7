// Package kaspifake is a strict in-process fake of the Kaspi Shop Orders
// API, an http.Handler for httptest.NewServer and for the sandbox command.
// A fake kinder than the real API would hide client bugs, so where the
// reference is firm the fake refuses what Kaspi refuses. Tests add and
// change orders through its methods, inject faults per endpoint and read
// the request log.
//
// Enforced (each has a test):
//   - X-Auth-Token must equal Options.Token, else 401 with a JSON:API error;
//     an Authorization: Bearer header is not a token.
//   - A request without an Accept header (or with one that does not accept
//     JSON) gets an HTML 404, as the real API gives.
//   - GET /orders needs page[number] (≥ 0) and page[size] (1..100), else 400.
//   - Without filter[orders][code], filter[orders][creationDate][$ge] is
//     required and numeric (epoch ms); $le is optional (default: now by
//     Options.Now) and numeric; $le − $ge over 14 days is a 400.
//   - filter[orders][code] needs no date window.
//   - filter[orders][state] is optional (absent: every state) and must be a
//     known state; filter[orders][status] is honoured.
//   - meta.pageCount and meta.totalCount; pages past the end are empty.
//   - Results come in no particular order: a permutation seeded by
//     Options.Seed and the filter, stable across the pages of one listing.
//   - An order is hidden from every endpoint until its VisibleAt.
//   - include[orders]=entries (lines in included, ids in
//     relationships.entries.data) and include[orders]=user (customers);
//     an unknown include is a 400. Options.IgnoreInclude imitates versions
//     that ignore the include.
//   - GET /orders/{id} and GET /orders/{id}/entries with URL-escaped ids;
//     an unknown (or not yet visible) id is a JSON 404.
//   - Documents have the shape of the documented examples; links are
//     absolute or (Options.RelativeLinks) relative.
//
// Not enforced or not implemented:
//   - Content-Type on GET requests (documented as required, but GETs
//     without it are reported to work); it is only recorded in the log.
//   - Status changes (POST /orders), partial cancellation endpoints,
//     products, points of service and waybills: tests change orders through
//     the Go API (SetStatus, RemoveLine, SetTotal, Update) instead.
//   - Rate limits: Kaspi publishes none; 429 and 5xx answers, HTML pages,
//     cut-off JSON and slow answers come only from injected faults.
//   - filter[orders][deliveryType] and signatureRequired, sort and the
//     generic $lt/$gt operators are ignored; comma lists of states are
//     rejected as unknown states.
//   - The IP/User-Agent restrictions some integrators report.
package kaspifake
