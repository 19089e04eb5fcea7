// Package cronpaths prints, in Russian, the ready-to-paste commands that
// keep the integration running on a host: cron lines with absolute paths,
// a systemd unit and a Supervisor block for the scheduler's loop, and the
// HTTP cron URLs for hosts whose panel can only call a URL.
package cronpaths

import (
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
)

// Params is what the text is made of.
type Params struct {
	// Root is the absolute app root (the parent of bin/ and cgi-bin/).
	Root string
	// Arch is the running binary's architecture (runtime.GOARCH).
	Arch string
	// CGIBase is the URL of the cgi-bin folder ("" when unknown; then a
	// placeholder is printed). See CGIBaseFromRedirect.
	CGIBase string
	// Secret is CRON_SECRET to print in the URLs; "" prints a placeholder.
	Secret string
	// User is the account the systemd unit runs as ("" leaves it out).
	User string
	// KaspiStores names the configured Kaspi stores, store 1 first
	// (e.g. "№ 2 «Астана»"); with more than one they are listed: the same
	// cron lines serve them all.
	KaspiStores []string
}

// SecretPlaceholder stands in for CRON_SECRET unless --show-secret.
const SecretPlaceholder = "CRON_SECRET"

// CGIBaseFromRedirect derives the cgi-bin URL from AMO_REDIRECT_URI when it
// points at oauth_callback.cgi (it then names the shop's real domain and
// path); otherwise "".
func CGIBaseFromRedirect(redirect string) string {
	u, err := url.Parse(strings.TrimSpace(redirect))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	if h := u.Hostname(); h == "example.com" || strings.HasSuffix(h, ".example.com") || strings.Contains(h, ".example.") {
		// An example address (the sandbox's default) names no real site.
		return ""
	}
	dir, file := u.Path[:strings.LastIndexByte(u.Path, '/')+1], u.Path[strings.LastIndexByte(u.Path, '/')+1:]
	if file != "oauth_callback.cgi" {
		return ""
	}
	return u.Scheme + "://" + u.Host + dir
}

// shellQuote quotes a path for a crontab or unit line when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '_' || r == '-' || r == '+' || r == ':' || r == '@' ||
			(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Write prints the text.
func Write(w io.Writer, p Params) error {
	root := filepath.Clean(p.Root)
	bin := func(name string) string { return filepath.Join(root, "bin", name) }
	logs := filepath.Join(root, "logs")
	schedLog := filepath.Join(logs, "scheduler.log")
	cronLog := filepath.Join(logs, "cron.log")
	q := shellQuote

	base := p.CGIBase
	if base == "" {
		// The install folder's name is the likely path under the site
		// (public_html/kaspi-amocrm → /kaspi-amocrm/): keep it.
		base = "https://ВАШ_ДОМЕН/cgi-bin/"
		if dir := filepath.Base(root); dir != "/" && dir != "." && dir != "public_html" && dir != "www" && dir != "htdocs" {
			base = "https://ВАШ_ДОМЕН/" + url.PathEscape(dir) + "/cgi-bin/"
		}
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	secret := p.Secret
	if secret == "" {
		secret = SecretPlaceholder
	}
	tok := url.QueryEscape(secret)

	var b strings.Builder
	pr := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }

	pr("Kaspi → amoCRM: пути и команды для запуска по расписанию\n\n")
	pr("Папка программы:  %s\n", root)
	pr("Программы:        %s\n", filepath.Join(root, "bin"))
	pr("Веб-адреса (CGI): %s\n", filepath.Join(root, "cgi-bin"))
	pr("Архитектура этой сборки: linux/%s\n", p.Arch)
	pr("  fetch_new:  %s\n", bin("fetch_new"))
	pr("  reconcile:  %s\n", bin("reconcile"))
	pr("  scheduler:  %s\n", bin("scheduler"))
	if len(p.KaspiStores) > 1 {
		pr("Магазины Kaspi (%d): %s — каждый запуск обходит все магазины, отдельные задания не нужны\n",
			len(p.KaspiStores), strings.Join(p.KaspiStores, ", "))
	}
	pr("\n")

	pr("1. Рекомендуемый способ для cron на обычном хостинге (без SSH-доступа к серверу) — планировщик раз в минуту\n")
	pr("   (сам решает, что пора: новые заказы — каждые 60 сек, сверка — каждые 10 минут;\n")
	pr("   второй экземпляр сразу завершается, пока первый держит storage/cron.lock):\n\n")
	pr("   * * * * * %s --once >> %s 2>&1\n\n", q(bin("scheduler")), q(schedLog))

	pr("2. Вместо него можно добавить два отдельных задания:\n\n")
	pr("   * * * * * %s >> %s 2>&1\n", q(bin("fetch_new")), q(cronLog))
	pr("   */10 * * * * %s >> %s 2>&1\n\n", q(bin("reconcile")), q(cronLog))

	pr("3. Если есть SSH и systemd — один постоянный процесс (--loop, он же --daemon).\n")
	pr("   Файл /etc/systemd/system/kaspi-amocrm.service:\n\n")
	pr("   [Unit]\n")
	pr("   Description=Kaspi → amoCRM scheduler\n")
	pr("   After=network-online.target\n\n")
	pr("   [Service]\n")
	if p.User != "" {
		pr("   User=%s\n", p.User)
	}
	pr("   WorkingDirectory=%s\n", root)
	pr("   ExecStart=%s --loop\n", q(bin("scheduler")))
	pr("   Restart=always\n")
	pr("   RestartSec=10\n")
	pr("   StandardOutput=append:%s\n", schedLog)
	pr("   StandardError=append:%s\n\n", schedLog)
	pr("   [Install]\n")
	pr("   WantedBy=multi-user.target\n\n")
	pr("   Затем: systemctl daemon-reload && systemctl enable --now kaspi-amocrm\n\n")

	pr("   Или блок для Supervisor (/etc/supervisor/conf.d/kaspi-amocrm.conf):\n\n")
	pr("   [program:kaspi-amocrm]\n")
	pr("   command=%s --loop\n", q(bin("scheduler")))
	pr("   directory=%s\n", root)
	if p.User != "" {
		pr("   user=%s\n", p.User)
	}
	pr("   autostart=true\n")
	pr("   autorestart=true\n")
	pr("   stopsignal=TERM\n")
	pr("   stopwaitsecs=70\n")
	pr("   redirect_stderr=true\n")
	pr("   stdout_logfile=%s\n\n", schedLog)

	pr("4. Если панель хостинга умеет только открывать адрес (HTTP-cron):\n\n")
	pr("   каждую минуту:     %scron.cgi?task=new&token=%s\n", base, tok)
	pr("   каждые 10 минут:   %scron.cgi?task=reconcile&token=%s\n", base, tok)
	pr("   состояние:         %scron.cgi?task=status&token=%s\n", base, tok)
	if p.Secret == "" {
		pr("   (вместо %s подставьте значение CRON_SECRET из .env; показать его здесь: cron_paths --show-secret)\n", SecretPlaceholder)
	}
	if p.CGIBase == "" {
		pr("   (ВАШ_ДОМЕН — адрес сайта; путь до cgi-bin/ — как у папки программы на сайте; точный адрес берётся из AMO_REDIRECT_URI, когда тот указывает на ваш oauth_callback.cgi)\n")
	}
	pr("   Ответ «OK …» — задание выполнено, «BUSY» — идёт другой запуск (это нормально).\n\n")

	pr("Журналы: %s (файлы ГГГГ-ММ-ДД.log; вывод cron — %s и %s)\n", logs, filepath.Base(schedLog), filepath.Base(cronLog))
	_, err := io.WriteString(w, b.String())
	return err
}
