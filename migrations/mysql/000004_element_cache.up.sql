CREATE TABLE element_cache (
  catalog_id BIGINT NOT NULL,
  sku VARCHAR(191) NOT NULL,
  element_id BIGINT NOT NULL,
  PRIMARY KEY (catalog_id, sku),
  KEY element_cache_element_idx (catalog_id, element_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
