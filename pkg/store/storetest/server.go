package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"kaspi-amocrm/pkg/store"
)

// ErrNoServer is returned by ServerConfig when the driver's DSN variable
// is unset.
var ErrNoServer = fmt.Errorf("no database server named (set %s / %s)", EnvMySQL, EnvPgSQL)

// ServerConfig reads the server DSN of mysql or pgsql from its variable
// (EnvMySQL, EnvPgSQL) into a store.Config; an unset variable gives an
// error wrapping ErrNoServer.
func ServerConfig(driver string) (store.Config, error) {
	switch driver {
	case store.DriverMySQL:
		dsn := os.Getenv(EnvMySQL)
		if dsn == "" {
			return store.Config{}, fmt.Errorf("%s is not set, e.g. root@tcp(127.0.0.1:3306)/: %w", EnvMySQL, ErrNoServer)
		}
		mc, err := mysql.ParseDSN(dsn)
		if err != nil {
			return store.Config{}, fmt.Errorf("%s: %v", EnvMySQL, err)
		}
		host, port, _ := net.SplitHostPort(mc.Addr)
		if mc.Net == "unix" {
			host, port = mc.Addr, ""
		}
		return store.Config{Driver: store.DriverMySQL, Host: host, Port: port, User: mc.User, Pass: mc.Passwd}, nil
	case store.DriverPgSQL:
		dsn := os.Getenv(EnvPgSQL)
		if dsn == "" {
			return store.Config{}, fmt.Errorf("%s is not set, e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable: %w", EnvPgSQL, ErrNoServer)
		}
		u, err := url.Parse(dsn)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return store.Config{}, fmt.Errorf("%s: want postgres://user[:pass]@host:port/db, got an unusable value", EnvPgSQL)
		}
		pass, _ := u.User.Password()
		cfg := store.Config{Driver: store.DriverPgSQL, Host: u.Hostname(), Port: u.Port(), User: u.User.Username(),
			Pass: pass, Name: strings.TrimPrefix(u.Path, "/")}
		if cfg.Name == "" {
			cfg.Name = "postgres"
		}
		return cfg, nil
	}
	return store.Config{}, fmt.Errorf("unknown driver %q (sqlite, mysql or pgsql)", driver)
}

// CreateDatabase makes an empty database named prefix plus a random
// suffix: a file in dir for SQLite, a database on the server of
// ServerConfig otherwise. drop removes it (the SQLite file goes with dir).
func CreateDatabase(ctx context.Context, driver, dir, prefix string) (cfg store.Config, drop func() error, err error) {
	name := prefix + randomSuffix()
	if driver == store.DriverSQLite {
		return store.Config{Driver: store.DriverSQLite, SQLitePath: filepath.Join(dir, name+".sqlite")}, func() error { return nil }, nil
	}
	admin, err := ServerConfig(driver)
	if err != nil {
		return store.Config{}, nil, err
	}
	db, err := store.Open(ctx, admin)
	if err != nil {
		return store.Config{}, nil, err
	}
	create := "CREATE DATABASE " + name
	if driver == store.DriverMySQL {
		create += " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
	}
	if _, err := db.SQL().ExecContext(ctx, create); err != nil {
		db.Close()
		return store.Config{}, nil, fmt.Errorf("create database %s: %w", name, err)
	}
	cfg = admin
	cfg.Name = name
	drop = func() error {
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.SQL().ExecContext(ctx, "DROP DATABASE "+name); err != nil {
			return fmt.Errorf("drop database %s: %w", name, err)
		}
		return nil
	}
	return cfg, drop, nil
}

// NewDatabase is CreateDatabase plus the migrations, for tools (bench,
// chaos) that need a ready schema outside a test.
func NewDatabase(ctx context.Context, driver, dir, prefix string) (store.Config, func() error, error) {
	cfg, drop, err := CreateDatabase(ctx, driver, dir, prefix)
	if err != nil {
		return cfg, nil, err
	}
	db, err := store.Open(ctx, cfg)
	if err != nil {
		drop()
		return cfg, nil, err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		drop()
		return cfg, nil, fmt.Errorf("migrate: %w", err)
	}
	return cfg, drop, nil
}

func randomSuffix() string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
