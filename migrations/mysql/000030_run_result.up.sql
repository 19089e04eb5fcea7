-- What each run told the owner (ok, warn, error), why, and how many
-- amoCRM requests it made; when each deal
-- was created (the status page's deals per day and last deal).
ALTER TABLE run_log
  ADD COLUMN result VARCHAR(8) NULL,
  ADD COLUMN reason TEXT NULL,
  ADD COLUMN amo_requests BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orders_map
  ADD COLUMN lead_created_at DATETIME NULL;
