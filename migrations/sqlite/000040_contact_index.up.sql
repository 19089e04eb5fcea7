CREATE TABLE contact_index (
  contact_id INTEGER NOT NULL,
  phone TEXT NOT NULL,
  PRIMARY KEY (contact_id, phone)
);
CREATE INDEX contact_index_phone_idx ON contact_index (phone);
