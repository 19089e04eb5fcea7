package app

import (
	"testing"

	"kaspi-amocrm/pkg/config"
)

func TestAmoSubdomain_OnlyFromAmoCRMHosts(t *testing.T) {
	for in, want := range map[string]string{
		"shop": "shop", "Shop.amocrm.ru": "shop", "https://shop.amocrm.ru": "shop", "https://shop.kommo.com/": "shop",
		"https://shop.amocrm.com:443/": "shop", "shop.kommo.com": "shop",
		"http://127.0.0.1:8080": "", "https://proxy.example.kz/amo": "", "https://shop.amocrm.ru.evil.kz": "",
		"https://a.b.amocrm.ru": "", "crm.example.kz": "", "": "",
	} {
		if got := AmoSubdomain(config.Config{AmoSubdomain: in}); got != want {
			t.Errorf("AmoSubdomain(%q) = %q, want %q", in, got, want)
		}
	}
}
