// Package runlock makes sure only one run of the sync works at a time:
// cron lines, cron.cgi calls and the scheduler all take the same lock, and
// a run that finds it held leaves at once (the next minute's run will
// catch up). The lock is a flock on storage/cron.lock — the PHP version's
// file, so a PHP scheduler still running during the switch is excluded too
// — plus, when the database offers one, a database lock, which also covers
// storage on NFS and two hosts sharing one database.
package runlock

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/gofrs/flock"
)

// FileName is the lock file inside the storage folder.
const FileName = "cron.lock"

// Name is the database lock's name. The Locker scopes it to its database
// where locks are server-wide (MySQL GET_LOCK).
const Name = "kaspi_amocrm_cron"

// Locker is a non-blocking database lock (MySQL GET_LOCK(name, 0),
// PostgreSQL pg_try_advisory_lock; SQLite needs none: the file lock
// covers it). ok=false means another session holds it.
type Locker interface {
	TryLock(ctx context.Context, name string) (release func(), ok bool, err error)
}

// TryAcquire takes the run lock without waiting. ok=false (and a nil
// error) means another run holds it. db may be nil for the file lock
// alone. release frees both locks; it is safe to call more than once.
func TryAcquire(ctx context.Context, storageDir string, db Locker) (release func(), ok bool, err error) {
	if err := os.MkdirAll(storageDir, 0o750); err != nil {
		return nil, false, fmt.Errorf("run lock: create storage: %w", err)
	}
	fl := flock.New(filepath.Join(storageDir, FileName), flock.SetPermissions(0o640))
	locked, err := fl.TryLock()
	if err != nil {
		return nil, false, fmt.Errorf("run lock: lock %s: %w", FileName, err)
	}
	if !locked {
		return nil, false, nil
	}
	// The file is never removed: deleting a lock file lets a newcomer lock
	// a fresh inode while an old holder still holds the deleted one.
	dbRelease := func() {}
	if db != nil {
		rel, ok, err := db.TryLock(ctx, Name)
		if err != nil || !ok {
			fl.Unlock()
			if err != nil {
				return nil, false, fmt.Errorf("run lock: database lock: %w", err)
			}
			return nil, false, nil
		}
		if rel != nil {
			dbRelease = rel
		}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			dbRelease()
			fl.Unlock()
		})
	}, true, nil
}
