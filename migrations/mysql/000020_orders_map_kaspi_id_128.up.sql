-- Kaspi order ids are up to 128 characters; the PHP schema allowed 64, so a
-- longer id failed the insert of its whole batch, every run.
ALTER TABLE orders_map MODIFY kaspi_order_id VARCHAR(128) NOT NULL
