package domain

import "testing"

func TestOneLine_FlattensAndCutsByRunes(t *testing.T) {
	for _, c := range []struct {
		in   string
		max  int
		want string
	}{
		{"amoCRM\n  ответил\t400", 100, "amoCRM ответил 400"},
		{"  ", 10, ""},
		{"заказ отложен", 5, "заказ…"},         // runes, not bytes
		{"заказ отложен", 6, "заказ…"},         // no space before the mark
		{"заказ отложен", 13, "заказ отложен"}, // exactly max: not cut
		{"abc", 0, "abc"}, // no limit
	} {
		if got := OneLine(c.in, c.max); got != c.want {
			t.Errorf("OneLine(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
}
