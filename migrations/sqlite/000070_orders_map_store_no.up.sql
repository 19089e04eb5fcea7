-- The Kaspi store an order came from (1 … 9). NULL is store 1: the rows
-- written before several stores existed, and the PHP version's rows.
ALTER TABLE orders_map ADD COLUMN store_no INTEGER NULL;
