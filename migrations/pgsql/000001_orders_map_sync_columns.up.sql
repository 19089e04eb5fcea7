-- The sync state of each order, next to the PHP columns (all nullable or defaulted).
ALTER TABLE orders_map
  ADD COLUMN snapshot TEXT NULL,
  ADD COLUMN order_state TEXT NULL,
  ADD COLUMN order_status TEXT NULL,
  ADD COLUMN creation_ms BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN phone TEXT NULL,
  ADD COLUMN contact_id BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN step TEXT NULL,
  ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN next_attempt_at TIMESTAMP NULL,
  ADD COLUMN last_error TEXT NULL,
  ADD COLUMN quarantined SMALLINT NOT NULL DEFAULT 0,
  ADD COLUMN amo_status_id BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN tracked SMALLINT NULL,
  ADD COLUMN checked_at TIMESTAMP NULL,
  ADD COLUMN updated_at TIMESTAMP NULL;
