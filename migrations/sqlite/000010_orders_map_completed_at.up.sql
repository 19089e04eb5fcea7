-- When the sync first saw the order completed: a completed order stays
-- tracked for the return window counted from then.
ALTER TABLE orders_map ADD COLUMN completed_at DATETIME NULL;
