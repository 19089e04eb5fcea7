-- The sync state of each order, next to the PHP columns (all nullable or defaulted).
ALTER TABLE orders_map ADD COLUMN snapshot TEXT NULL;
ALTER TABLE orders_map ADD COLUMN order_state TEXT NULL;
ALTER TABLE orders_map ADD COLUMN order_status TEXT NULL;
ALTER TABLE orders_map ADD COLUMN creation_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders_map ADD COLUMN phone TEXT NULL;
ALTER TABLE orders_map ADD COLUMN contact_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders_map ADD COLUMN step TEXT NULL;
ALTER TABLE orders_map ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders_map ADD COLUMN next_attempt_at DATETIME NULL;
ALTER TABLE orders_map ADD COLUMN last_error TEXT NULL;
ALTER TABLE orders_map ADD COLUMN quarantined INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders_map ADD COLUMN amo_status_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders_map ADD COLUMN tracked INTEGER NULL;
ALTER TABLE orders_map ADD COLUMN checked_at DATETIME NULL;
ALTER TABLE orders_map ADD COLUMN updated_at DATETIME NULL;
