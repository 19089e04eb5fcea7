package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/store"
	"kaspi-amocrm/pkg/store/storetest"
)

// The PHP version's schema at each level a shop's install may be at, in
// each dialect, built by hand from the columns the PHP version used.

type phpSchema struct {
	settings, oauth, ordersOld, ordersFull        string
	mappingLatest, mappingMultiple, mappingLegacy []string
}

var phpSchemas = map[string]phpSchema{
	store.DriverMySQL: {
		settings: "CREATE TABLE settings (`key` VARCHAR(64) PRIMARY KEY, `value` TEXT) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
		oauth: `CREATE TABLE oauth_tokens (service VARCHAR(32) PRIMARY KEY, access_token TEXT NOT NULL,
			refresh_token TEXT NOT NULL, expires_at BIGINT NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
		ordersOld: `CREATE TABLE orders_map (order_code VARCHAR(64) PRIMARY KEY, kaspi_order_id VARCHAR(64) NOT NULL,
			kaspi_status VARCHAR(64) DEFAULT NULL, lead_id BIGINT NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
		ordersFull: `CREATE TABLE orders_map (order_code VARCHAR(64) PRIMARY KEY, kaspi_order_id VARCHAR(64) NOT NULL,
			kaspi_status VARCHAR(64) DEFAULT NULL, lead_id BIGINT NOT NULL, total_price BIGINT, processing_token VARCHAR(64),
			processing_at DATETIME NULL, created_at DATETIME NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
		mappingLatest: []string{`CREATE TABLE status_mapping (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
			kaspi_status VARCHAR(64) NOT NULL, amo_pipeline_id BIGINT NOT NULL, amo_status_id BIGINT NOT NULL,
			sort_order INT NOT NULL DEFAULT 0, amo_responsible_user_id BIGINT DEFAULT NULL, is_active TINYINT(1) NOT NULL DEFAULT 1,
			created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
			updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
			PRIMARY KEY (id), UNIQUE KEY status_mapping_kaspi_pipeline_unique (kaspi_status, amo_pipeline_id),
			UNIQUE KEY status_mapping_kaspi_pipeline_status_unique (kaspi_status, amo_pipeline_id, amo_status_id)
			) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`},
		mappingMultiple: []string{`CREATE TABLE status_mapping (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
			kaspi_status VARCHAR(64) NOT NULL, amo_pipeline_id BIGINT NOT NULL, amo_status_id BIGINT NOT NULL,
			sort_order INT NOT NULL DEFAULT 0, amo_responsible_user_id BIGINT DEFAULT NULL, is_active TINYINT(1) NOT NULL DEFAULT 1,
			created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
			updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
			PRIMARY KEY (id),
			UNIQUE KEY status_mapping_kaspi_pipeline_status_unique (kaspi_status, amo_pipeline_id, amo_status_id)
			) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`},
		mappingLegacy: []string{`CREATE TABLE status_mapping (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
			kaspi_status VARCHAR(64) NOT NULL, amo_pipeline_id BIGINT NOT NULL, amo_status_id BIGINT NOT NULL,
			amo_responsible_user_id BIGINT DEFAULT NULL,
			created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
			updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
			PRIMARY KEY (id), UNIQUE KEY status_mapping_kaspi_status_unique (kaspi_status)
			) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`},
	},
	store.DriverPgSQL: {
		settings: "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT)",
		oauth: `CREATE TABLE oauth_tokens (service TEXT PRIMARY KEY, access_token TEXT NOT NULL,
			refresh_token TEXT NOT NULL, expires_at BIGINT NOT NULL)`,
		ordersOld: `CREATE TABLE orders_map (order_code TEXT PRIMARY KEY, kaspi_order_id TEXT NOT NULL,
			kaspi_status TEXT, lead_id BIGINT NOT NULL)`,
		ordersFull: `CREATE TABLE orders_map (order_code TEXT PRIMARY KEY, kaspi_order_id TEXT NOT NULL, kaspi_status TEXT,
			lead_id BIGINT NOT NULL, total_price NUMERIC(20,0), processing_token TEXT, processing_at TIMESTAMP NULL,
			created_at TIMESTAMP NOT NULL DEFAULT NOW())`,
		mappingLatest: []string{`CREATE TABLE status_mapping (id BIGSERIAL PRIMARY KEY, kaspi_status TEXT NOT NULL,
			amo_pipeline_id BIGINT NOT NULL, amo_status_id BIGINT NOT NULL, sort_order INTEGER NOT NULL DEFAULT 0,
			amo_responsible_user_id BIGINT, is_active BOOLEAN NOT NULL DEFAULT TRUE,
			created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL DEFAULT NOW(),
			updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL DEFAULT NOW())`,
			"CREATE UNIQUE INDEX status_mapping_kaspi_pipeline_unique ON status_mapping (kaspi_status, amo_pipeline_id)",
			"CREATE UNIQUE INDEX status_mapping_kaspi_pipeline_status_unique ON status_mapping (kaspi_status, amo_pipeline_id, amo_status_id)",
			`CREATE OR REPLACE FUNCTION set_status_mapping_updated_at() RETURNS TRIGGER AS $$
			BEGIN NEW.updated_at := NOW(); RETURN NEW; END; $$ LANGUAGE plpgsql`,
			`CREATE TRIGGER status_mapping_set_updated_at BEFORE UPDATE ON status_mapping
			FOR EACH ROW EXECUTE PROCEDURE set_status_mapping_updated_at()`},
		mappingMultiple: []string{`CREATE TABLE status_mapping (id BIGSERIAL PRIMARY KEY, kaspi_status TEXT NOT NULL,
			amo_pipeline_id BIGINT NOT NULL, amo_status_id BIGINT NOT NULL, sort_order INTEGER NOT NULL DEFAULT 0,
			amo_responsible_user_id BIGINT, created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL DEFAULT NOW(),
			updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL DEFAULT NOW())`,
			"CREATE UNIQUE INDEX status_mapping_kaspi_pipeline_status_unique ON status_mapping (kaspi_status, amo_pipeline_id, amo_status_id)"},
		mappingLegacy: []string{`CREATE TABLE status_mapping (id BIGSERIAL PRIMARY KEY, kaspi_status TEXT NOT NULL,
			amo_pipeline_id BIGINT NOT NULL, amo_status_id BIGINT NOT NULL, amo_responsible_user_id BIGINT,
			created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL DEFAULT NOW(),
			updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL DEFAULT NOW())`,
			"CREATE UNIQUE INDEX status_mapping_kaspi_status_unique ON status_mapping (kaspi_status)",
			`CREATE OR REPLACE FUNCTION set_status_mapping_updated_at() RETURNS TRIGGER AS $$
			BEGIN NEW.updated_at := NOW(); RETURN NEW; END; $$ LANGUAGE plpgsql`,
			`CREATE TRIGGER status_mapping_set_updated_at BEFORE UPDATE ON status_mapping
			FOR EACH ROW EXECUTE PROCEDURE set_status_mapping_updated_at()`},
	},
	store.DriverSQLite: {
		settings: "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT)",
		oauth: `CREATE TABLE oauth_tokens (service TEXT PRIMARY KEY, access_token TEXT NOT NULL,
			refresh_token TEXT NOT NULL, expires_at INTEGER NOT NULL)`,
		ordersOld: `CREATE TABLE orders_map (order_code TEXT PRIMARY KEY, kaspi_order_id TEXT NOT NULL,
			kaspi_status TEXT, lead_id INTEGER NOT NULL)`,
		ordersFull: `CREATE TABLE orders_map (order_code TEXT PRIMARY KEY, kaspi_order_id TEXT NOT NULL, kaspi_status TEXT,
			lead_id INTEGER NOT NULL, total_price INTEGER, processing_token TEXT, processing_at DATETIME NULL,
			created_at DATETIME NOT NULL)`,
		mappingLatest: []string{`CREATE TABLE status_mapping (id INTEGER PRIMARY KEY AUTOINCREMENT, kaspi_status TEXT NOT NULL,
			amo_pipeline_id INTEGER NOT NULL, amo_status_id INTEGER NOT NULL, sort_order INTEGER NOT NULL DEFAULT 0,
			amo_responsible_user_id INTEGER, is_active INTEGER NOT NULL DEFAULT 1,
			created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, updated_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP)`,
			"CREATE UNIQUE INDEX status_mapping_kaspi_pipeline_unique ON status_mapping (kaspi_status, amo_pipeline_id)",
			"CREATE UNIQUE INDEX status_mapping_kaspi_pipeline_status_unique ON status_mapping (kaspi_status, amo_pipeline_id, amo_status_id)"},
		mappingMultiple: []string{`CREATE TABLE status_mapping (id INTEGER PRIMARY KEY AUTOINCREMENT, kaspi_status TEXT NOT NULL,
			amo_pipeline_id INTEGER NOT NULL, amo_status_id INTEGER NOT NULL, sort_order INTEGER NOT NULL DEFAULT 0,
			amo_responsible_user_id INTEGER, created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
			updated_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP)`,
			"CREATE UNIQUE INDEX status_mapping_kaspi_pipeline_status_unique ON status_mapping (kaspi_status, amo_pipeline_id, amo_status_id)"},
		mappingLegacy: []string{`CREATE TABLE status_mapping (id INTEGER PRIMARY KEY AUTOINCREMENT, kaspi_status TEXT NOT NULL,
			amo_pipeline_id INTEGER NOT NULL, amo_status_id INTEGER NOT NULL, amo_responsible_user_id INTEGER,
			created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, updated_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP)`,
			"CREATE UNIQUE INDEX status_mapping_kaspi_status_unique ON status_mapping (kaspi_status)"},
	},
}

type phpLevel struct {
	name      string
	oldOrders bool
	mapping   string // "", latest, multiple, legacy
}

var phpLevels = []phpLevel{
	{name: "OldOrdersNoStatusMapping", oldOrders: true},
	{name: "FullOrdersNoStatusMapping"},
	{name: "FullWithStatusMappingAndTripleIndex", mapping: "latest"},
	{name: "AllowMultipleLevelWithDuplicatePairs", mapping: "multiple"},
	{name: "LegacyStatusMappingUniqueOnKaspiStatus", oldOrders: true, mapping: "legacy"},
}

func execAll(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// q rewrites ? to $n for PostgreSQL fixtures.
func q(driver, s string) string {
	if driver != store.DriverPgSQL {
		return s
	}
	n := 0
	var b strings.Builder
	for _, r := range s {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func buildPHP(t *testing.T, driver string, raw *sql.DB, lv phpLevel) {
	t.Helper()
	sc := phpSchemas[driver]
	key, value := `"key"`, `"value"`
	if driver == store.DriverMySQL {
		key, value = "`key`", "`value`"
	}
	execAll(t, raw, sc.settings, sc.oauth)
	for _, kv := range [][2]string{{"last_creation_ms", "1714557600000"}, {"last_check_ms", "1714557000000"},
		{"scheduler_last_run_fetch_new", "1714557660"}, {"nullable", ""}} {
		execAll(t, raw)
		if _, err := raw.Exec(q(driver, "INSERT INTO settings ("+key+", "+value+") VALUES (?, ?)"), kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := raw.Exec(q(driver, "INSERT INTO oauth_tokens (service, access_token, refresh_token, expires_at) VALUES (?, ?, ?, ?)"),
		"amocrm", "acc.ess", "ref.resh", int64(1714561200)); err != nil {
		t.Fatal(err)
	}
	if lv.oldOrders {
		execAll(t, raw, sc.ordersOld)
		for _, r := range []struct {
			code, id string
			state    any
			lead     int64
		}{{"1001", "k1", "NEW", 0}, {"1002", "k2", "DELIVERY", 555001}, {"1003", "k3", "ARCHIVE", 555002}, {"1004", "k4", nil, 555003}} {
			if _, err := raw.Exec(q(driver, "INSERT INTO orders_map (order_code, kaspi_order_id, kaspi_status, lead_id) VALUES (?, ?, ?, ?)"),
				r.code, r.id, r.state, r.lead); err != nil {
				t.Fatal(err)
			}
		}
	} else {
		execAll(t, raw, sc.ordersFull)
		for _, r := range []struct {
			code, id  string
			state     any
			lead      int64
			total     any
			token, at any
			created   string
		}{
			{"1001", "k1", "NEW", 0, int64(12990), "tok-1", "2024-05-01 10:06:00", "2024-05-01 10:05:00"},
			{"1002", "k2", "DELIVERY", 555001, int64(25000), nil, nil, "2024-05-01 10:00:00"},
			{"1003", "k3", "ARCHIVE", 555002, nil, nil, nil, "2024-04-30 09:00:00"},
			{"1004", "k4", nil, 555003, int64(1), nil, nil, "2024-04-29 08:00:00"},
		} {
			if _, err := raw.Exec(q(driver, `INSERT INTO orders_map (order_code, kaspi_order_id, kaspi_status, lead_id, total_price,
				processing_token, processing_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
				r.code, r.id, r.state, r.lead, r.total, r.token, r.at, r.created); err != nil {
				t.Fatal(err)
			}
		}
	}
	switch lv.mapping {
	case "latest":
		execAll(t, raw, sc.mappingLatest...)
		insertMappings(t, driver, raw, true, true, [][3]any{{"COMPLETED", 7, 142}, {"CANCELLED", 7, 143}, {"COMPLETED", 8, 900}})
	case "multiple":
		execAll(t, raw, sc.mappingMultiple...)
		insertMappings(t, driver, raw, false, true, [][3]any{{"COMPLETED", 7, 142}, {"COMPLETED", 7, 150}, {"CANCELLED", 7, 143}})
	case "legacy":
		execAll(t, raw, sc.mappingLegacy...)
		insertMappings(t, driver, raw, false, false, [][3]any{{"COMPLETED", 7, 142}, {"CANCELLED", 7, 143}})
	}
}

func insertMappings(t *testing.T, driver string, raw *sql.DB, active, sort bool, rows [][3]any) {
	t.Helper()
	for i, r := range rows {
		cols, vals, args := "kaspi_status, amo_pipeline_id, amo_status_id, amo_responsible_user_id", "?, ?, ?, ?", []any{r[0], r[1], r[2], nil}
		if i == 1 {
			args[3] = int64(31337)
		}
		if sort {
			cols += ", sort_order"
			vals += ", ?"
			args = append(args, i)
		}
		if active {
			cols += ", is_active"
			vals += ", ?"
			args = append(args, i != 2)
		}
		if _, err := raw.Exec(q(driver, "INSERT INTO status_mapping ("+cols+") VALUES ("+vals+")"), args...); err != nil {
			t.Fatal(err)
		}
	}
}

// dump reads every row of a table (the given columns, ordered by the
// first) as text, so that "nothing changed" is one comparison.
func dump(t *testing.T, raw *sql.DB, table string, cols []string) []string {
	t.Helper()
	rows, err := raw.Query("SELECT " + strings.Join(cols, ", ") + " FROM " + table + " ORDER BY " + cols[0])
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i, v := range vals {
			if bs, ok := v.([]byte); ok {
				v = string(bs)
			}
			if tm, ok := v.(time.Time); ok {
				v = tm.UTC().Format(time.DateTime)
			}
			fmt.Fprintf(&b, "%s=%v|", cols[i], v)
		}
		out = append(out, b.String())
	}
	return out
}

func phpColumns(driver string, lv phpLevel) map[string][]string {
	key, value := `"key"`, `"value"`
	if driver == store.DriverMySQL {
		key, value = "`key`", "`value`"
	}
	m := map[string][]string{
		"settings":     {key, value},
		"oauth_tokens": {"service", "access_token", "refresh_token", "expires_at"},
		"orders_map":   {"order_code", "kaspi_order_id", "kaspi_status", "lead_id"},
	}
	if !lv.oldOrders {
		m["orders_map"] = append(m["orders_map"], "total_price", "processing_token", "processing_at", "created_at")
	}
	switch lv.mapping {
	case "latest":
		m["status_mapping"] = []string{"id", "kaspi_status", "amo_pipeline_id", "amo_status_id", "sort_order",
			"amo_responsible_user_id", "is_active", "created_at", "updated_at"}
	case "multiple":
		m["status_mapping"] = []string{"id", "kaspi_status", "amo_pipeline_id", "amo_status_id", "sort_order",
			"amo_responsible_user_id", "created_at", "updated_at"}
	case "legacy":
		m["status_mapping"] = []string{"id", "kaspi_status", "amo_pipeline_id", "amo_status_id",
			"amo_responsible_user_id", "created_at", "updated_at"}
	}
	return m
}

// TestAdopt_PHPDatabase_NothingLost builds the PHP version's database at
// each of its levels, migrates it twice, and checks that every row and
// value is still there, that our columns read sensibly (a row with a lead
// is done, one without waits for a lookup in amoCRM), and that both the
// ledger and the PHP-era tables keep working.
func TestAdopt_PHPDatabase_NothingLost(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, driver := range storetest.Drivers(t) {
		for _, lv := range phpLevels {
			t.Run(driver+"/"+lv.name, func(t *testing.T) {
				t.Parallel()
				raw, cfg := storetest.OpenEmpty(t, driver)
				buildPHP(t, driver, raw, lv)
				cols := phpColumns(driver, lv)
				before := map[string][]string{}
				for table, c := range cols {
					before[table] = dump(t, raw, table, c)
				}
				db := storetest.OpenConfig(t, cfg)
				latest, _ := db.LatestVersion()
				for i := range 2 {
					v, err := db.Migrate(ctx)
					if err != nil || v != latest {
						t.Fatalf("migrate #%d: version %d (want %d): %v", i+1, v, latest, err)
					}
				}
				for table, c := range cols {
					if after := dump(t, raw, table, c); !reflect.DeepEqual(before[table], after) {
						t.Fatalf("%s changed:\nbefore %v\nafter  %v", table, before[table], after)
					}
				}

				wm, ok, err := db.Setting(ctx, "last_creation_ms")
				if err != nil || !ok || wm != "1714557600000" {
					t.Fatalf("watermark %q %v %v", wm, ok, err)
				}
				tok, err := db.Token(ctx, "amocrm")
				if err != nil || tok != (domain.Token{AccessToken: "acc.ess", RefreshToken: "ref.resh", ExpiresAt: 1714561200}) {
					t.Fatalf("token %+v %v", tok, err)
				}

				recs, err := db.Records(ctx, []string{"1001", "1002", "1003", "1004"})
				if err != nil || len(recs) != 4 {
					t.Fatalf("records %d %v", len(recs), err)
				}
				want := map[string]struct {
					step    domain.Step
					state   string
					lead    int64
					tracked bool
				}{
					"1001": {domain.StepLeadRequested, "NEW", 0, true},
					"1002": {domain.StepDone, "DELIVERY", 555001, true},
					"1003": {domain.StepDone, "ARCHIVE", 555002, false},
					"1004": {domain.StepDone, "", 555003, true},
				}
				for code, w := range want {
					r := recs[code]
					if r.Step != w.step || r.State != w.state || r.LeadID != w.lead || r.Tracked != w.tracked ||
						r.Status != "" || r.CreationMs != 0 || r.Order != nil || r.Attempts != 0 || r.Quarantined ||
						r.CreatedAt.IsZero() || r.KaspiID != "k"+code[3:] || r.StoreNo != 1 {
						t.Errorf("%s adopted as %+v, want %+v", code, r, w)
					}
				}
				if !lv.oldOrders && (recs["1002"].TotalPrice != 25000 || !recs["1002"].CreatedAt.Equal(time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC))) {
					t.Errorf("1002 total/created: %+v", recs["1002"])
				}

				due, err := db.Due(ctx, now, 10, false)
				if err != nil || len(due) != 1 || due[0].Code != "1001" {
					t.Fatalf("due %v %v", due, err)
				}
				stale, err := db.Stale(ctx, now, 10)
				if err != nil || len(stale) != 2 || stale[0].Code != "1002" || stale[1].Code != "1004" {
					t.Fatalf("stale %v %v", stale, err)
				}
				ins, err := db.Ingest(ctx, []domain.Order{{ID: "k2", Code: "1002", State: "DELIVERY"}, {ID: "k9", Code: "1009", State: "NEW"}}, now)
				if err != nil || len(ins) != 1 || ins[0] != "1009" {
					t.Fatalf("ingest on adopted ledger: %v %v", ins, err)
				}

				// The PHP version (a rollback) still writes its rows; we read them.
				phpInsert := "INSERT INTO orders_map (order_code, kaspi_order_id, kaspi_status, lead_id) VALUES (?, ?, ?, ?)"
				phpArgs := []any{"2001", "p1", "NEW", 0}
				if !lv.oldOrders {
					phpInsert = "INSERT INTO orders_map (order_code, kaspi_order_id, kaspi_status, lead_id, created_at) VALUES (?, ?, ?, ?, ?)"
					phpArgs = append(phpArgs, "2025-03-01 11:00:00")
				}
				if _, err := raw.Exec(q(driver, phpInsert), phpArgs...); err != nil {
					t.Fatalf("PHP-style insert: %v", err)
				}
				if r, err := db.Record(ctx, "2001"); err != nil || r.Step != domain.StepLeadRequested || r.StoreNo != 1 || r.CreatedAt.IsZero() && !lv.oldOrders {
					t.Fatalf("PHP-written row: %+v %v", r, err)
				}
				if _, err := raw.Exec(q(driver, "UPDATE orders_map SET lead_id = ? WHERE order_code = ?"), int64(777), "2001"); err != nil {
					t.Fatal(err)
				}
				if r, _ := db.Record(ctx, "2001"); r.Step != domain.StepDone || r.LeadID != 777 {
					t.Fatalf("PHP-finished row: %+v", r)
				}

				checkMappings(t, db, lv, now)
			})
		}
		t.Run(driver+"/EmptyDatabase", func(t *testing.T) {
			t.Parallel()
			_, cfg := storetest.OpenEmpty(t, driver)
			db := storetest.OpenConfig(t, cfg)
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := db.UpsertStatusMapping(ctx, domain.StatusMapping{KaspiStatus: "NEW", AmoPipelineID: 1, AmoStatusID: 2, IsActive: true}, now); err != nil {
				t.Fatal(err)
			}
			// The pair is unique: a second row for it is refused by the database itself.
			_, err := db.SQL().Exec(q(driver, "INSERT INTO status_mapping (kaspi_status, amo_pipeline_id, amo_status_id) VALUES (?, ?, ?)"), "NEW", 1, 3)
			if err == nil {
				t.Fatal("duplicate (kaspi_status, amo_pipeline_id) accepted")
			}
		})
	}
}

func checkMappings(t *testing.T, db *store.DB, lv phpLevel, now time.Time) {
	t.Helper()
	ctx := context.Background()
	all, err := db.ListStatusMappings(ctx, store.StatusMappingFilter{})
	if err != nil {
		t.Fatal(err)
	}
	switch lv.mapping {
	case "":
		if len(all) != 0 {
			t.Fatalf("mappings %v", all)
		}
	case "legacy":
		// Added columns read as the PHP defaults: active, sort order 0.
		if len(all) != 2 || !all[0].IsActive || !all[1].IsActive || all[0].SortOrder != 0 {
			t.Fatalf("legacy mappings %+v", all)
		}
	case "latest":
		st, _ := db.StatusMappingCounts(ctx)
		if st != (store.StatusMappingStats{Total: 3, Active: 2, Inactive: 1}) {
			t.Fatalf("stats %+v", st)
		}
		if all[0].KaspiStatus != "CANCELLED" || all[0].AmoResponsibleUserID != 31337 {
			t.Fatalf("mappings %+v", all)
		}
	case "multiple":
		am, _ := db.ActiveStatusMappings(ctx, 7)
		if am["COMPLETED"] != 142 || am["CANCELLED"] != 143 {
			t.Fatalf("active with duplicate pairs: %v", am)
		}
		// Upsert of a duplicated pair updates the row already pointing there.
		id, err := db.UpsertStatusMapping(ctx, domain.StatusMapping{KaspiStatus: "COMPLETED", AmoPipelineID: 7, AmoStatusID: 150, IsActive: false}, now)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := db.ListStatusMappings(ctx, store.StatusMappingFilter{KaspiStatus: "COMPLETED", PipelineID: 7})
		if len(got) != 2 || got[1].ID != id || got[1].IsActive || !got[0].IsActive {
			t.Fatalf("after upsert %+v (id %d)", got, id)
		}
	}
	// One Kaspi value may now map in a second pipeline (the legacy unique
	// index on kaspi_status alone is gone), and upserts find their pair.
	id1, err := db.UpsertStatusMapping(ctx, domain.StatusMapping{KaspiStatus: "CANCELLED", AmoPipelineID: 99, AmoStatusID: 143, IsActive: true}, now)
	if err != nil {
		t.Fatalf("upsert in a second pipeline: %v", err)
	}
	id2, err := db.UpsertStatusMapping(ctx, domain.StatusMapping{KaspiStatus: "CANCELLED", AmoPipelineID: 99, AmoStatusID: 144, IsActive: true}, now)
	if err != nil || id1 != id2 {
		t.Fatalf("second upsert: %d %d %v", id1, id2, err)
	}
	if ok, err := db.SetStatusMappingActive(ctx, id1, false, now); err != nil || !ok {
		t.Fatalf("toggle: %v %v", ok, err)
	}
}
