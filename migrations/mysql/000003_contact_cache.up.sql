CREATE TABLE contact_cache (
  phone VARCHAR(32) NOT NULL PRIMARY KEY,
  contact_id BIGINT NOT NULL,
  KEY contact_cache_contact_idx (contact_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
