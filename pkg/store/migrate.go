package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/golang-migrate/migrate/v4"
	"github.com/golang-migrate/migrate/v4/database"
	"github.com/golang-migrate/migrate/v4/source/iofs"

	"kaspi-amocrm/migrations"
)

// DirtyError says a migration stopped halfway and could not be recovered
// automatically. Fix names the exact statement that resolves it.
type DirtyError struct {
	Version uint
	Fix     string
}

func (e *DirtyError) Error() string {
	return fmt.Sprintf("store: migration %d stopped halfway: %s", e.Version, e.Fix)
}

// migrationDir is the embedded folder of a dialect.
func (d dialect) migrationDir() string { return d.kind }

// LatestVersion is the newest migration version this program carries.
func (s *DB) LatestVersion() (uint, error) {
	vs, err := s.versions()
	if err != nil || len(vs) == 0 {
		return 0, err
	}
	return vs[len(vs)-1], nil
}

// versions lists the migration versions this program carries, ascending.
// They need not be consecutive.
func (s *DB) versions() ([]uint, error) {
	entries, err := fs.ReadDir(migrations.FS, s.d.migrationDir())
	if err != nil {
		return nil, fmt.Errorf("store: read migrations: %w", err)
	}
	var vs []uint
	for _, e := range entries {
		name := e.Name()
		i := strings.IndexByte(name, '_')
		if i <= 0 || !strings.HasSuffix(name, ".up.sql") {
			continue
		}
		v, err := strconv.ParseUint(name[:i], 10, 64)
		if err != nil {
			continue
		}
		vs = append(vs, uint(v))
	}
	slices.Sort(vs)
	return vs, nil
}

// previousVersion is the version before v among the migrations carried
// (database.NilVersion before the first): with gaps in the numbering it is
// not v-1, and golang-migrate cannot be forced to a version it lacks.
func (s *DB) previousVersion(v uint) int {
	vs, _ := s.versions()
	prev := database.NilVersion
	for _, x := range vs {
		if x < v {
			prev = int(x)
		}
	}
	return prev
}

// SchemaStatus reads the applied migration version (0 when none) and the
// newest one this program carries.
func (s *DB) SchemaStatus(ctx context.Context) (current, latest uint, dirty bool, err error) {
	latest, err = s.LatestVersion()
	if err != nil {
		return 0, 0, false, err
	}
	tables, err := s.d.tableNames(ctx, s.db)
	if err != nil {
		return 0, latest, false, fmt.Errorf("store: schema status: %w", err)
	}
	if !tables[migrationsTable] {
		return 0, latest, false, nil
	}
	var v int64
	err = s.db.QueryRowContext(ctx, "SELECT version, dirty FROM "+migrationsTable).Scan(&v, &dirty)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, latest, false, nil
	}
	if err != nil {
		return 0, latest, false, fmt.Errorf("store: schema status: %w", err)
	}
	if v < 0 {
		v = 0
	}
	return uint(v), latest, dirty, nil
}

// CheckSchema returns nil when the schema is exactly the one this program
// expects, and an error wrapping ErrSchemaBehind otherwise (migrations
// pending, a dirty migration, or a schema newer than this program).
func (s *DB) CheckSchema(ctx context.Context) error {
	cur, latest, dirty, err := s.SchemaStatus(ctx)
	if err != nil {
		return err
	}
	switch {
	case dirty:
		return fmt.Errorf("%w: migration %d did not finish", ErrSchemaBehind, cur)
	case cur < latest:
		return fmt.Errorf("%w: version %d, this program needs %d", ErrSchemaBehind, cur, latest)
	case cur > latest:
		return fmt.Errorf("%w: version %d is newer than this program (%d)", ErrSchemaBehind, cur, latest)
	}
	return nil
}

// Migrate adopts a database made by the PHP version (or creates the PHP
// tables in an empty one) and then runs the pending migrations. It first
// takes our own lock: when another process holds it, ErrMigrationBusy is
// returned at once. Running it again is a no-op. A migration left dirty by
// a crash is recovered when that is safe, otherwise a *DirtyError says how
// to fix it by hand.
func (s *DB) Migrate(ctx context.Context) (version uint, err error) {
	release, ok, err := s.TryLock(ctx, "migrate")
	if err != nil {
		return 0, fmt.Errorf("store: migrate: %w", err)
	}
	if !ok {
		return 0, ErrMigrationBusy
	}
	defer release()

	if err := s.adopt(ctx); err != nil {
		return 0, fmt.Errorf("store: migrate: adopt existing tables: %w", err)
	}

	src, err := iofs.New(migrations.FS, s.d.migrationDir())
	if err != nil {
		return 0, fmt.Errorf("store: migrate: %w", err)
	}
	drv, closeDrv, err := s.d.migrationDriver(ctx, s.cfg)
	if err != nil {
		src.Close()
		return 0, fmt.Errorf("store: migrate: %w", err)
	}
	m, err := migrate.NewWithInstance("iofs", src, s.d.name(), drv)
	if err != nil {
		src.Close()
		closeDrv()
		return 0, fmt.Errorf("store: migrate: %w", err)
	}
	defer func() {
		src.Close()
		closeDrv()
	}()

	if err := s.recoverDirty(m); err != nil {
		return 0, err
	}
	if err := m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		// The failing migration is now marked dirty: recoverDirty reruns it
		// once (a lost connection is over) or explains how to fix it.
		if _, dirty, _ := m.Version(); !dirty {
			return 0, fmt.Errorf("store: migrate: %w", migrationCause(err))
		}
		if rerr := s.recoverDirty(m); rerr != nil {
			return 0, rerr
		}
		if err := m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
			return 0, fmt.Errorf("store: migrate: %w", migrationCause(err))
		}
	}
	v, dirty, err := m.Version()
	if err != nil && !errors.Is(err, migrate.ErrNilVersion) {
		return 0, fmt.Errorf("store: migrate: read version: %w", err)
	}
	if dirty {
		return v, &DirtyError{Version: v, Fix: s.dirtyFix(v)}
	}
	return v, nil
}

// recoverDirty handles a version left dirty by a migration that failed or
// was interrupted. Our migrations are safe to run again once forced back:
// PostgreSQL and SQLite run each file in one transaction (all or nothing),
// and each MySQL file is one statement. If the rerun finds the objects
// already there (the crash came after the migration committed but before
// golang-migrate marked it clean), the version is marked clean instead.
// That "already there" is told by the driver's error code; SQLite has no
// such code, so there the rerun's failure is left to the user with the fix.
func (s *DB) recoverDirty(m *migrate.Migrate) error {
	v, dirty, err := m.Version()
	if err != nil || !dirty {
		return nil
	}
	prev := s.previousVersion(v)
	if err := m.Force(prev); err != nil {
		return fmt.Errorf("store: migrate: reset dirty version %d: %w", v, err)
	}
	err = m.Steps(1)
	if err == nil {
		return nil
	}
	if s.d.isAlreadyApplied(migrationCause(err)) {
		if ferr := m.Force(int(v)); ferr != nil {
			return fmt.Errorf("store: migrate: mark version %d clean: %w", v, ferr)
		}
		return nil
	}
	cause := migrationCause(err)
	if s.d.kind == DriverPgSQL {
		// The failed file was rolled back as a whole: leave the version
		// clean where it was, so the next run simply tries again.
		if ferr := m.Force(prev); ferr != nil {
			return fmt.Errorf("store: migrate: reset failed version %d: %w", v, ferr)
		}
		return fmt.Errorf("store: migrate: migration %d failed, nothing of it was applied: %w", v, cause)
	}
	return &DirtyError{Version: v, Fix: s.dirtyFix(v) + " (last error: " + cause.Error() + ")"}
}

func (s *DB) dirtyFix(v uint) string {
	return fmt.Sprintf("check whether migration %d (migrations/%s/%06d_*.up.sql) took effect; "+
		"if it did, run: UPDATE %s SET dirty = %s; if it did not, run: UPDATE %s SET version = %d, dirty = %s; then run the migrations again",
		v, s.d.migrationDir(), v, migrationsTable, s.d.falseLiteral(), migrationsTable, max(s.previousVersion(v), 0), s.d.falseLiteral())
}

func (d dialect) falseLiteral() string {
	switch d.kind {
	case DriverPgSQL:
		return "false"
	case DriverMySQL, DriverSQLite:
		return "0"
	default:
		panic(d.unknown())
	}
}

// migrationCause digs the driver's error out of golang-migrate's
// database.Error, which does not unwrap.
func migrationCause(err error) error {
	var de database.Error
	if errors.As(err, &de) && de.OrigErr != nil {
		return de.OrigErr
	}
	var dp *database.Error
	if errors.As(err, &dp) && dp.OrigErr != nil {
		return dp.OrigErr
	}
	return err
}
