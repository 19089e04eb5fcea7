package doctor

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"kaspi-amocrm/pkg/config"
)

// exposureFix is the advice when the site serves the tree's private files.
const exposureFix = "Сервер не применяет .htaccess (AllowOverride None или nginx). Лучше всего перенесите всё, кроме cgi-bin/, " +
	"в папку вне public_html (INSTALL.md, раздел «Где разместить файлы»); иначе попросите хостинг закрыть доступ к " +
	".env, storage/ и logs/. Проверка: curl -I адрес/.env должен ответить 403 или 404."

// siteBase is the address of the app root as AMO_REDIRECT_URI shows it
// (the part before /cgi-bin/), or the site root.
func siteBase(redirect string) (string, bool) {
	u, err := url.Parse(redirect)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", false
	}
	path := ""
	if i := strings.Index(u.Path, "/cgi-bin/"); i >= 0 {
		path = u.Path[:i]
	}
	return u.Scheme + "://" + u.Host + path, true
}

// checkWebExposure asks the site, on the host of AMO_REDIRECT_URI, for
// .env and the SQLite file: they must answer 403 or 404, never the file.
func checkWebExposure(ctx context.Context, r *Report, cfg config.Config, hc *http.Client) {
	c := Check{ID: "web.exposure", Title: ".env и база не скачиваются из интернета"}
	base, ok := siteBase(cfg.AmoRedirectURI)
	if !ok {
		c.Mark, c.Detail = Skip, "не проверено: AMO_REDIRECT_URI не задан"
		r.add(c)
		return
	}
	if hc == nil {
		hc = &http.Client{Timeout: 5 * time.Second}
	}
	noRedirects := *hc
	noRedirects.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	targets := []string{config.EnvFile, "storage/kaspi_amocrm.sqlite", "logs/"}
	if cfg.DB.Driver == config.DriverSQLite && cfg.Root != "" {
		if rel, err := filepath.Rel(cfg.Root, cfg.DB.Name); err == nil && !strings.HasPrefix(rel, "..") {
			targets[1] = filepath.ToSlash(rel)
		}
	}
	var served, unknown []string
	for _, t := range targets {
		u := base + "/" + t
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			continue
		}
		req.Header.Set("Range", "bytes=0-0")
		resp, err := noRedirects.Do(req)
		if err != nil {
			unknown = append(unknown, t)
			continue
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusPartialContent {
			served = append(served, fmt.Sprintf("%s (HTTP %d)", u, resp.StatusCode))
		}
	}
	switch {
	case len(served) > 0:
		c.Mark, c.Detail, c.Fix = Fail, "скачиваются: "+strings.Join(served, ", "), exposureFix
	case len(unknown) == len(targets):
		c.Mark, c.Detail = Warn, "не удалось проверить: сайт "+base+" не ответил с этого сервера"
		c.Fix = "Проверьте с любого компьютера: curl -I " + base + "/.env должен ответить 403 или 404."
	default:
		c.Mark, c.Detail = OK, base+"/.env отвечает 403 или 404"
	}
	r.add(c)
}
