package doctor

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"kaspi-amocrm/pkg/config"
)

// isOthers tells a file of another user (tests replace it).
var isOthers = ownedByOther

// modeFix is the advice for files other users of the host can reach.
const modeFix = "Запустите bin/doctor --fix или уберите доступ «для всех»: chmod 600 .env; chmod -R o-rwx storage logs " +
	"(папки 700, файлы 600). Если веб-сервер запускает CGI от другого пользователя, чем cron (без suEXEC), " +
	"дайте доступ группе (папки 750, файлы 640) и сделайте этого пользователя членом группы; доступ для всех не нужен никогда."

// checkModes finds .env, storage/ and logs/ (with what is in them) and the
// SQLite files that other users of the host may read or write, and with
// fix takes that access away (the owner's and the group's stay).
func checkModes(r *Report, root string, cfg config.Config, fix bool) {
	c := Check{ID: "files.modes", Title: "Права на .env, базу, storage/ и logs/"}
	paths := []string{filepath.Join(root, config.EnvFile)}
	for _, dir := range []string{"storage", "logs"} {
		d := filepath.Join(root, dir)
		paths = append(paths, d)
		if entries, err := os.ReadDir(d); err == nil {
			for _, e := range entries {
				paths = append(paths, filepath.Join(d, e.Name()))
			}
		}
	}
	if cfg.DB.Driver == config.DriverSQLite && cfg.DB.Name != "" {
		for _, sfx := range []string{"", "-wal", "-shm", "-journal"} {
			paths = append(paths, cfg.DB.Name+sfx)
		}
	}
	seen := map[string]bool{}
	var open, fixed, failed, foreign []string
	for _, p := range paths {
		if seen[p] {
			continue
		}
		seen[p] = true
		st, err := os.Lstat(p)
		if err != nil || st.Mode()&fs.ModeSymlink != 0 {
			continue
		}
		name := relTo(root, p)
		if isOthers(st) {
			foreign = append(foreign, name)
		}
		perm := st.Mode().Perm()
		if perm&0o007 == 0 {
			continue
		}
		if name == config.EnvFile && !fix {
			continue // env.mode reports it
		}
		if !fix {
			open = append(open, fmt.Sprintf("%s (%04o)", name, perm))
			continue
		}
		if err := os.Chmod(p, perm&^0o007); err != nil {
			failed = append(failed, fmt.Sprintf("%s: %s", name, errCause(err)))
			continue
		}
		fixed = append(fixed, fmt.Sprintf("%s %04o → %04o", name, perm, perm&^0o007))
	}
	switch {
	case len(failed) > 0:
		c.Mark, c.Detail, c.Fix = Fail, "не удалось исправить: "+listShort(failed), modeFix
	case len(open) > 0:
		c.Mark, c.Detail, c.Fix = Fail, "доступны другим пользователям сервера: "+listShort(open), modeFix
	case len(fixed) > 0:
		c.Mark, c.Detail = OK, "исправлено: "+listShort(fixed)
	default:
		c.Mark, c.Detail = OK, "доступ только владельцу (и группе, если задан)"
	}
	r.add(c)
	if len(foreign) > 0 {
		r.add(Check{ID: "files.owner", Title: "Владелец файлов", Mark: Warn,
			Detail: "принадлежат другому пользователю, чем тот, от которого запущена проверка: " + listShort(foreign),
			Fix: "Похоже, веб-сервер запускает CGI от другого пользователя, чем cron (хостинг без suEXEC). " +
				"Обоим нужен доступ к storage/ и logs/: сделайте их членами одной группы и дайте группе права (папки 750, файлы 640, " +
				"chmod -R g+rwX storage logs); доступ для всех не давайте. Проще всего попросить хостинг включить suEXEC."})
	}
}

func relTo(root, p string) string {
	if rel, err := filepath.Rel(root, p); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return p
}

// listShort joins at most five items and says how many more there are.
func listShort(items []string) string {
	if len(items) <= 5 {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:5], ", ") + fmt.Sprintf(" и ещё %d", len(items)-5)
}
