-- The sync state of each order, next to the PHP columns (all nullable or defaulted).
-- Text that carries customer data is utf8mb4 even if an old table was not.
ALTER TABLE orders_map
  ADD COLUMN snapshot MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NULL,
  ADD COLUMN order_state VARCHAR(32) NULL,
  ADD COLUMN order_status VARCHAR(64) NULL,
  ADD COLUMN creation_ms BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN phone VARCHAR(32) NULL,
  ADD COLUMN contact_id BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN step VARCHAR(32) NULL,
  ADD COLUMN attempts INT NOT NULL DEFAULT 0,
  ADD COLUMN next_attempt_at DATETIME NULL,
  ADD COLUMN last_error TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NULL,
  ADD COLUMN quarantined SMALLINT NOT NULL DEFAULT 0,
  ADD COLUMN amo_status_id BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN tracked SMALLINT NULL,
  ADD COLUMN checked_at DATETIME NULL,
  ADD COLUMN updated_at DATETIME NULL
