-- Rows written by the PHP version: its kaspi_status held the Kaspi state.
-- A row with a lead is finished (tracked unless archived); a row without
-- one may have had a lead created before a crash, so it is looked up in
-- amoCRM by order code before anything is created.
UPDATE orders_map SET
  order_state = COALESCE(kaspi_status, ''),
  step = CASE WHEN lead_id > 0 THEN 'done' ELSE 'lead_requested' END,
  tracked = CASE WHEN lead_id > 0 AND COALESCE(kaspi_status, '') = 'ARCHIVE' THEN 0 ELSE 1 END,
  updated_at = created_at
WHERE step IS NULL
;
