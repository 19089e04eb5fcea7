package amocrm

import (
	"fmt"
	"net/url"
	"strings"
)

// BaseURL turns the AMO_SUBDOMAIN setting into the account's base URL.
// A bare subdomain ("shop") means https://shop.amocrm.ru; a host
// ("shop.kommo.com") keeps its own domain; a full URL ("https://shop.amocrm.ru/",
// "http://127.0.0.1:8081") is used as it is, without a trailing slash.
func BaseURL(setting string) (string, error) {
	s := strings.TrimSpace(setting)
	if s == "" {
		return "", fmt.Errorf("amocrm: AMO_SUBDOMAIN is empty")
	}
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return "", fmt.Errorf("amocrm: AMO_SUBDOMAIN %q: %w", setting, err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", fmt.Errorf("amocrm: AMO_SUBDOMAIN %q is not an http(s) URL", setting)
		}
		if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return "", fmt.Errorf("amocrm: AMO_SUBDOMAIN %q must be a bare URL", setting)
		}
		return u.Scheme + "://" + u.Host + strings.TrimRight(u.Path, "/"), nil
	}
	host := strings.ToLower(strings.TrimRight(s, "/"))
	if strings.ContainsAny(host, "/?#@ ") {
		return "", fmt.Errorf("amocrm: AMO_SUBDOMAIN %q is neither a subdomain nor a host", setting)
	}
	if !strings.Contains(host, ".") {
		host += ".amocrm.ru"
	}
	return "https://" + host, nil
}
