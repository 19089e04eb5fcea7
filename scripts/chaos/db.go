package main

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

// Environment variables naming the database servers (the same ones the
// store tests read).
const (
	envMySQL = "KA_TEST_MYSQL_DSN"
	envPgSQL = "KA_TEST_PGSQL_DSN"
)

// newDatabase creates an empty database of the driver (a file for SQLite,
// a randomly named database on the server named by the DSN variable
// otherwise), migrates it, and returns its config and a function that
// drops it.
func newDatabase(ctx context.Context, driver, dir string) (store.Config, func(), error) {
	var cfg store.Config
	drop := func() {}
	switch driver {
	case store.DriverSQLite:
		cfg = store.Config{Driver: store.DriverSQLite, SQLitePath: filepath.Join(dir, "kaspi_amocrm.sqlite")}
	case store.DriverMySQL, store.DriverPgSQL:
		admin, err := serverConfig(driver)
		if err != nil {
			return cfg, drop, err
		}
		db, err := store.Open(ctx, admin)
		if err != nil {
			return cfg, drop, err
		}
		name := "ka_chaos_" + randomHex(6)
		create := "CREATE DATABASE " + name
		if driver == store.DriverMySQL {
			create += " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
		}
		if _, err := db.SQL().ExecContext(ctx, create); err != nil {
			db.Close()
			return cfg, drop, fmt.Errorf("create database %s: %w", name, err)
		}
		cfg = admin
		cfg.Name = name
		drop = func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, err := db.SQL().ExecContext(ctx, "DROP DATABASE "+name); err != nil {
				fmt.Fprintf(os.Stderr, "drop database %s: %v\n", name, err)
			}
			db.Close()
		}
	default:
		return cfg, drop, fmt.Errorf("unknown driver %q (sqlite, mysql or pgsql)", driver)
	}
	db, err := store.Open(ctx, cfg)
	if err != nil {
		drop()
		return cfg, func() {}, err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		drop()
		return cfg, func() {}, fmt.Errorf("migrate: %w", err)
	}
	return cfg, drop, nil
}

// serverConfig reads the server DSN of a driver from its variable.
func serverConfig(driver string) (store.Config, error) {
	if driver == store.DriverMySQL {
		dsn := os.Getenv(envMySQL)
		if dsn == "" {
			return store.Config{}, fmt.Errorf("-driver mysql needs %s, e.g. root@tcp(127.0.0.1:3306)/", envMySQL)
		}
		mc, err := mysql.ParseDSN(dsn)
		if err != nil {
			return store.Config{}, fmt.Errorf("%s: %w", envMySQL, err)
		}
		host, port, _ := net.SplitHostPort(mc.Addr)
		if mc.Net == "unix" {
			host, port = mc.Addr, ""
		}
		return store.Config{Driver: store.DriverMySQL, Host: host, Port: port, User: mc.User, Pass: mc.Passwd}, nil
	}
	dsn := os.Getenv(envPgSQL)
	if dsn == "" {
		return store.Config{}, fmt.Errorf("-driver pgsql needs %s, e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", envPgSQL)
	}
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return store.Config{}, fmt.Errorf("%s: want postgres://user[:pass]@host:port/db", envPgSQL)
	}
	pass, _ := u.User.Password()
	cfg := store.Config{Driver: store.DriverPgSQL, Host: u.Hostname(), Port: u.Port(), User: u.User.Username(),
		Pass: pass, Name: strings.TrimPrefix(u.Path, "/")}
	if cfg.Name == "" {
		cfg.Name = "postgres"
	}
	return cfg, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
