CREATE TABLE contact_cache (
  phone TEXT NOT NULL PRIMARY KEY,
  contact_id INTEGER NOT NULL
);
CREATE INDEX contact_cache_contact_idx ON contact_cache (contact_id);
