CREATE TABLE element_cache (
  catalog_id INTEGER NOT NULL,
  sku TEXT NOT NULL,
  element_id INTEGER NOT NULL,
  PRIMARY KEY (catalog_id, sku)
);
CREATE INDEX element_cache_element_idx ON element_cache (catalog_id, element_id);
