package store

// The DDL of the PHP baseline: the PHP version's latest table shapes, in
// each database's types, and the columns old PHP installs lack.

type baselineDDL struct {
	settings, ordersMap, oauthTokens, statusMapping string
	statusMappingExtra                              []string // after CREATE TABLE status_mapping
	pairIndex                                       string   // unique (kaspi_status, amo_pipeline_id)
	// columns of orders_map that old PHP installs lack, and of status_mapping
	ordersMapColumns     map[string]string
	statusMappingColumns map[string]string
}

func (d dialect) baseline() baselineDDL {
	pairIndex := "CREATE UNIQUE INDEX status_mapping_kaspi_pipeline_unique ON status_mapping (kaspi_status, amo_pipeline_id)"
	switch d.kind {
	case DriverMySQL:
		return baselineDDL{
			settings: "CREATE TABLE settings (`key` VARCHAR(64) PRIMARY KEY, `value` TEXT) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
			ordersMap: `CREATE TABLE orders_map (
  order_code VARCHAR(64) PRIMARY KEY,
  kaspi_order_id VARCHAR(64) NOT NULL,
  kaspi_status VARCHAR(64) DEFAULT NULL,
  lead_id BIGINT NOT NULL,
  total_price BIGINT,
  processing_token VARCHAR(64),
  processing_at DATETIME NULL,
  created_at DATETIME NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
			oauthTokens: `CREATE TABLE oauth_tokens (
  service VARCHAR(32) PRIMARY KEY,
  access_token TEXT NOT NULL,
  refresh_token TEXT NOT NULL,
  expires_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
			statusMapping: `CREATE TABLE status_mapping (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  kaspi_status VARCHAR(64) NOT NULL,
  amo_pipeline_id BIGINT NOT NULL,
  amo_status_id BIGINT NOT NULL,
  sort_order INT NOT NULL DEFAULT 0,
  amo_responsible_user_id BIGINT DEFAULT NULL,
  is_active TINYINT(1) NOT NULL DEFAULT 1,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (id),
  UNIQUE KEY status_mapping_kaspi_pipeline_unique (kaspi_status, amo_pipeline_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
			pairIndex: pairIndex,
			ordersMapColumns: map[string]string{
				"kaspi_status":     "ALTER TABLE orders_map ADD COLUMN kaspi_status VARCHAR(64) NULL DEFAULT NULL",
				"total_price":      "ALTER TABLE orders_map ADD COLUMN total_price BIGINT",
				"processing_token": "ALTER TABLE orders_map ADD COLUMN processing_token VARCHAR(64)",
				"processing_at":    "ALTER TABLE orders_map ADD COLUMN processing_at DATETIME NULL",
				"created_at":       "ALTER TABLE orders_map ADD COLUMN created_at DATETIME NULL DEFAULT CURRENT_TIMESTAMP",
			},
			statusMappingColumns: map[string]string{
				"sort_order": "ALTER TABLE status_mapping ADD COLUMN sort_order INT NOT NULL DEFAULT 0",
				"is_active":  "ALTER TABLE status_mapping ADD COLUMN is_active TINYINT(1) NOT NULL DEFAULT 1",
			},
		}
	case DriverPgSQL:
		return baselineDDL{
			settings: "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT)",
			ordersMap: `CREATE TABLE orders_map (
  order_code TEXT PRIMARY KEY,
  kaspi_order_id TEXT NOT NULL,
  kaspi_status TEXT,
  lead_id BIGINT NOT NULL,
  total_price NUMERIC(20,0),
  processing_token TEXT,
  processing_at TIMESTAMP NULL,
  created_at TIMESTAMP NOT NULL DEFAULT NOW()
)`,
			oauthTokens: `CREATE TABLE oauth_tokens (
  service TEXT PRIMARY KEY,
  access_token TEXT NOT NULL,
  refresh_token TEXT NOT NULL,
  expires_at BIGINT NOT NULL
)`,
			statusMapping: `CREATE TABLE status_mapping (
  id BIGSERIAL PRIMARY KEY,
  kaspi_status TEXT NOT NULL,
  amo_pipeline_id BIGINT NOT NULL,
  amo_status_id BIGINT NOT NULL,
  sort_order INTEGER NOT NULL DEFAULT 0,
  amo_responsible_user_id BIGINT,
  is_active BOOLEAN NOT NULL DEFAULT TRUE,
  created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL DEFAULT NOW()
)`,
			// The PHP version keeps updated_at with a trigger; we keep it
			// too so that the PHP version behaves the same on our database.
			statusMappingExtra: []string{
				pairIndex,
				`CREATE OR REPLACE FUNCTION set_status_mapping_updated_at() RETURNS TRIGGER AS $$
BEGIN
  NEW.updated_at := NOW();
  RETURN NEW;
END;
$$ LANGUAGE plpgsql`,
				`CREATE TRIGGER status_mapping_set_updated_at BEFORE UPDATE ON status_mapping FOR EACH ROW EXECUTE PROCEDURE set_status_mapping_updated_at()`,
			},
			pairIndex: pairIndex,
			ordersMapColumns: map[string]string{
				"kaspi_status":     "ALTER TABLE orders_map ADD COLUMN kaspi_status TEXT",
				"total_price":      "ALTER TABLE orders_map ADD COLUMN total_price NUMERIC(20,0)",
				"processing_token": "ALTER TABLE orders_map ADD COLUMN processing_token TEXT",
				"processing_at":    "ALTER TABLE orders_map ADD COLUMN processing_at TIMESTAMP NULL",
				"created_at":       "ALTER TABLE orders_map ADD COLUMN created_at TIMESTAMP NULL DEFAULT NOW()",
			},
			statusMappingColumns: map[string]string{
				"sort_order": "ALTER TABLE status_mapping ADD COLUMN sort_order INTEGER NOT NULL DEFAULT 0",
				"is_active":  "ALTER TABLE status_mapping ADD COLUMN is_active BOOLEAN NOT NULL DEFAULT TRUE",
			},
		}
	case DriverSQLite:
		// The PHP version had no SQLite; this is the same shape in SQLite
		// types, so that a database built like the PHP one is adopted too.
		return baselineDDL{
			settings: "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT)",
			ordersMap: `CREATE TABLE orders_map (
  order_code TEXT PRIMARY KEY,
  kaspi_order_id TEXT NOT NULL,
  kaspi_status TEXT,
  lead_id INTEGER NOT NULL,
  total_price INTEGER,
  processing_token TEXT,
  processing_at DATETIME NULL,
  created_at DATETIME NOT NULL
)`,
			oauthTokens: `CREATE TABLE oauth_tokens (
  service TEXT PRIMARY KEY,
  access_token TEXT NOT NULL,
  refresh_token TEXT NOT NULL,
  expires_at INTEGER NOT NULL
)`,
			statusMapping: `CREATE TABLE status_mapping (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kaspi_status TEXT NOT NULL,
  amo_pipeline_id INTEGER NOT NULL,
  amo_status_id INTEGER NOT NULL,
  sort_order INTEGER NOT NULL DEFAULT 0,
  amo_responsible_user_id INTEGER,
  is_active INTEGER NOT NULL DEFAULT 1,
  created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
)`,
			statusMappingExtra: []string{pairIndex},
			pairIndex:          pairIndex,
			ordersMapColumns: map[string]string{
				"kaspi_status":     "ALTER TABLE orders_map ADD COLUMN kaspi_status TEXT",
				"total_price":      "ALTER TABLE orders_map ADD COLUMN total_price INTEGER",
				"processing_token": "ALTER TABLE orders_map ADD COLUMN processing_token TEXT",
				"processing_at":    "ALTER TABLE orders_map ADD COLUMN processing_at DATETIME NULL",
				"created_at":       "ALTER TABLE orders_map ADD COLUMN created_at DATETIME NULL",
			},
			statusMappingColumns: map[string]string{
				"sort_order": "ALTER TABLE status_mapping ADD COLUMN sort_order INTEGER NOT NULL DEFAULT 0",
				"is_active":  "ALTER TABLE status_mapping ADD COLUMN is_active INTEGER NOT NULL DEFAULT 1",
			},
		}
	default:
		panic(d.unknown())
	}
}
