-- What each run told the owner (ok, warn, error) and why; when each deal
-- was created (the status page's deals per day and last deal).
ALTER TABLE run_log
  ADD COLUMN result VARCHAR(8) NULL,
  ADD COLUMN reason TEXT NULL;
ALTER TABLE orders_map
  ADD COLUMN lead_created_at TIMESTAMP NULL;
