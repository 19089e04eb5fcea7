package cronpaths

import (
	"strings"
	"testing"
)

func render(t *testing.T, p Params) string {
	t.Helper()
	var b strings.Builder
	if err := Write(&b, p); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// The text gives absolute, ready-to-paste lines for every way of running.
func TestWrite_AbsoluteLinesForEveryWayOfRunning(t *testing.T) {
	out := render(t, Params{Root: "/home/shop/kaspi", Arch: "amd64"})
	for _, want := range []string{
		"* * * * * /home/shop/kaspi/bin/scheduler --once >> /home/shop/kaspi/logs/scheduler.log 2>&1",
		"* * * * * /home/shop/kaspi/bin/fetch_new >> /home/shop/kaspi/logs/cron.log 2>&1",
		"*/10 * * * * /home/shop/kaspi/bin/reconcile >> /home/shop/kaspi/logs/cron.log 2>&1",
		"ExecStart=/home/shop/kaspi/bin/scheduler --loop",
		"[program:kaspi-amocrm]",
		"command=/home/shop/kaspi/bin/scheduler --loop",
		"Журналы: /home/shop/kaspi/logs",
		"linux/amd64",
		"cron.cgi?task=new&token=CRON_SECRET",
		"cron.cgi?task=reconcile&token=CRON_SECRET",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q\n%s", want, out)
		}
	}
}

// The secret is a placeholder unless the caller asks to show it.
func TestWrite_SecretOnlyWhenAsked(t *testing.T) {
	out := render(t, Params{Root: "/r", Arch: "386"})
	if !strings.Contains(out, "--show-secret") {
		t.Errorf("placeholder output does not say how to show the secret")
	}
	out = render(t, Params{Root: "/r", Arch: "386", Secret: "s3cr&t"})
	if !strings.Contains(out, "token=s3cr%26t") {
		t.Errorf("secret not in the URLs (escaped):\n%s", out)
	}
}

// A path with spaces is quoted so the crontab line still works.
func TestWrite_QuotesPathsWithSpaces(t *testing.T) {
	out := render(t, Params{Root: "/home/my shop", Arch: "amd64"})
	if !strings.Contains(out, "'/home/my shop/bin/scheduler' --once") {
		t.Errorf("path not quoted:\n%s", out)
	}
}

// The shop's domain comes from AMO_REDIRECT_URI when it names oauth_callback.cgi.
func TestCGIBaseFromRedirect(t *testing.T) {
	for in, want := range map[string]string{
		"https://shop.kz/kaspi/cgi-bin/oauth_callback.cgi": "https://shop.kz/kaspi/cgi-bin/",
		"https://shop.kz/oauth_callback.php":               "",
		"":                                                 "",
		"shop.kz/cgi-bin/oauth_callback.cgi":               "",
		"https://shop.example.kz/cgi-bin/oauth_callback.cgi": "", // the sandbox's default
	} {
		if got := CGIBaseFromRedirect(in); got != want {
			t.Errorf("CGIBaseFromRedirect(%q) = %q, want %q", in, got, want)
		}
	}
	out := render(t, Params{Root: "/r", Arch: "amd64", CGIBase: "https://shop.kz/k/cgi-bin/"})
	if !strings.Contains(out, "https://shop.kz/k/cgi-bin/cron.cgi?task=new") {
		t.Errorf("base not used:\n%s", out)
	}
}

// Without a usable AMO_REDIRECT_URI the HTTP-cron URLs keep the install
// folder's name as the path under the site.
func TestWrite_PlaceholderURLKeepsTheInstallFolder(t *testing.T) {
	out := render(t, Params{Root: "/home/shop/public_html/kaspi-amocrm", Arch: "amd64"})
	if !strings.Contains(out, "https://ВАШ_ДОМЕН/kaspi-amocrm/cgi-bin/cron.cgi?task=new") {
		t.Errorf("install folder lost:\n%s", out)
	}
	out = render(t, Params{Root: "/home/shop/public_html", Arch: "amd64"})
	if !strings.Contains(out, "https://ВАШ_ДОМЕН/cgi-bin/cron.cgi?task=new") {
		t.Errorf("site root install:\n%s", out)
	}
}

// Several Kaspi stores are named, and served by the same lines.
func TestWrite_NamesTheKaspiStores(t *testing.T) {
	out := render(t, Params{Root: "/r", Arch: "amd64", KaspiStores: []string{"«Алматы»", "«Астана»"}})
	if !strings.Contains(out, "Магазины Kaspi (2): «Алматы», «Астана»") || strings.Count(out, "bin/fetch_new >>") != 1 {
		t.Fatalf("stores:\n%s", out)
	}
	if one := render(t, Params{Root: "/r", Arch: "amd64", KaspiStores: []string{"№ 1"}}); strings.Contains(one, "Магазины Kaspi") {
		t.Fatalf("one store listed:\n%s", one)
	}
}
