// Package amofake is a strict in-process fake of the amoCRM API v4, written
// from the project's API reference. A fake kinder than the real API would
// hide client bugs, so where the reference is firm the fake refuses what
// amoCRM refuses, and where it is unsure the fake takes the strict reading.
//
// The fake is an http.Handler; serve it with httptest.NewServer and use the
// server URL as the account base (AMO_SUBDOMAIN may be a full URL). Methods
// outside the HTTP API seed data (AddContact, AddElement, AddLead, AddField),
// act as a manager (MoveLead, DeleteLead, DeleteContact, DeleteElement),
// inspect (Leads, Contacts, Elements, Links, Notes, Requests, MaxPerSecond,
// Count429, TokenGrants), issue credentials (IssueTokens, IssueCode,
// IssueLongLivedToken) and inject faults (InjectFault).
//
// Enforced (each has a test):
//   - POST /oauth2/access_token (JSON, or form-encoded as the PHP client
//     sends): wrong client id/secret → 401 problem+json "Некорректный
//     клиент"; redirect_uri must equal the integration's; an authorization
//     code is single-use and expires after 20 minutes (400); every refresh
//     returns a new pair and kills the refresh token used, a reused one is
//     401 "Token has been revoked". The access token issued with a spent
//     refresh token is revoked too (the strict answer to an open question).
//   - Every /api/v4 call needs Authorization: Bearer with a live token;
//     missing, unknown, expired or revoked → 401 problem+json. Long-lived
//     tokens work until their expiry, then 401.
//   - 402 problem+json on every API call while SetPaymentRequired(true).
//   - More than Options.RPS requests (7) in any one-second window → 429
//     with an nginx HTML body and no Retry-After; BanAfter429s (20) such
//     429s within a minute ban the account: every request, the token
//     endpoint included, answers 403 HTML for BanDuration (1 h) or until
//     Unban.
//   - Lists are HAL (_page, _links.self/next/prev, _embedded); page is
//     1-based, limit defaults to 50 and is capped at 250 (custom fields at
//     50 per page whatever the limit); an empty result or a page past the
//     end is 204 with an empty body. GET of one missing or deleted lead,
//     contact or element is 204.
//   - Batch writes take a JSON array of 1..50 items (more than 50 → 400:
//     the reference only recommends ≤ 50, rejecting more is the strict
//     reading); an object sent to a batch URL, or an array to a
//     single-entity URL, is 405. request_id is echoed (the index when
//     absent).
//   - Any invalid item fails the whole batch with 400 validation-errors
//     keyed by request_id, paths inside the item
//     (custom_fields_values.0.field_id), and nothing of the batch is
//     applied. Checked: unknown keys (FieldNotExpected), unknown or foreign
//     custom field ids/codes, unknown enum values, value types per field
//     type (text is a string; date and date_time are Unix seconds or an
//     RFC 3339 string; numeric/price a number or numeric string), unknown
//     pipeline, status, user, loss reason and tag ids, a status of another
//     pipeline, 142/143 without pipeline_id, explicit null for an optional
//     int, non-integer lead price (45990.0 included), names over 255
//     characters, _embedded.contacts naming a missing or deleted contact or
//     carrying contact fields, any company id (the account has none),
//     PATCH of a missing or deleted id.
//   - Links (bulk /leads/link and /leads/{id}/link): the lead and the
//     element must exist, metadata.catalog_id is required and must be the
//     element's catalog, price_id must be a price field of that catalog,
//     an invalid metadata.updated_by is NotSupportedChoice, unknown
//     metadata keys are FieldNotExpected; linking a pair again updates it.
//     GET /leads/{id}/links: filter[to_entity_id] needs
//     filter[to_entity_type] (400).
//   - Notes: entity_id must be a live lead, note_type a known type, a
//     common note needs params.text and nothing else in params.
//   - query: a case-insensitive substring of the name or of any stored
//     field value (phones stored as typed, e.g. "8 (701) 123-45-67"); a
//     query of digits only also matches a PHONE value whose digits contain
//     it. So "7011234567" finds that contact, and also any contact with
//     those digits in its name or another field (decoys), while
//     "+77011234567" and "77011234567" find nothing. Options.SearchLag
//     delays when new entities become searchable.
//   - filter[id][] on leads, contacts and elements; any other filter is
//     silently ignored, as on accounts outside the filters alpha. The
//     contact listing's filter[updated_at][from|to] and order[id] /
//     order[updated_at] follow Options.ListFilters: the filter ignored
//     and the order honoured (default), both honoured, or both ignored.
//   - Manager actions: a deleted lead disappears from lists and filters;
//     a deleted contact leaves its leads; a deleted element loses its
//     links; a manual move changes the status the API reports.
//
// Not enforced or not implemented:
//   - /api/v4/leads/complex, companies, customers, tasks, webhooks, unlink,
//     tags endpoints, If-Modified-Since, order[...] outside the contact
//     listing (lists come by id).
//   - The per-account 50 rps ceiling, the 40-values-per-entity limit of
//     the complex method, required_statuses on fields, the "Код ошибки 244"
//     rights error, the subdomain lookup by refresh token.
//   - Whether amoCRM would coerce a number sent to a text field: the fake
//     rejects it. Whether a date-only string is accepted: rejected.
//   - Content-Type of requests is not checked; loss_reason_id is accepted
//     with any status; closed_at is set on entering 142/143 (undocumented).
//   - Refresh tokens never expire by age (3 months in the docs).
//   - 429s from injected faults never lead to a ban.
package amofake
