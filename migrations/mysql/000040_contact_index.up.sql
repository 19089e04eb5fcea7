CREATE TABLE contact_index (
  contact_id BIGINT NOT NULL,
  phone VARCHAR(32) NOT NULL,
  PRIMARY KEY (contact_id, phone),
  KEY contact_index_phone_idx (phone)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
