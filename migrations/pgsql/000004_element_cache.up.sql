CREATE TABLE element_cache (
  catalog_id BIGINT NOT NULL,
  sku TEXT NOT NULL,
  element_id BIGINT NOT NULL,
  PRIMARY KEY (catalog_id, sku)
);
CREATE INDEX element_cache_element_idx ON element_cache (catalog_id, element_id);
