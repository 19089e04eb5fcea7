package syncer

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"kaspi-amocrm/pkg/domain"
)

// fakeCreate answers create calls by a rule per key and counts the calls.
type fakeCreate struct {
	calls int
	bad   map[string]string // key → how it is refused: "named", "plain"
	err   error             // answers every call when set
}

func (f *fakeCreate) create(keys []string) (map[string]int64, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	ve := &domain.ValidationError{Items: map[string][]string{}}
	for _, k := range keys {
		switch f.bad[k] {
		case "named":
			ve.Items[k] = []string{"name: too long (NotSupportedChoice)"}
		case "plain":
			return nil, fmt.Errorf("amocrm: HTTP 400: %w", domain.ErrBadRequest)
		}
	}
	if len(ve.Items) > 0 {
		return nil, fmt.Errorf("amocrm: HTTP 400: %w", ve)
	}
	ids := map[string]int64{}
	for i, k := range keys {
		ids[k] = int64(100 + i)
	}
	return ids, nil
}

func testRun() *run { return &run{log: slog.New(slog.DiscardHandler)} }

func TestCreateKeyed_ValidationErrorRejectsOnlyTheNamedItems(t *testing.T) {
	f := &fakeCreate{bad: map[string]string{"b": "named"}}
	res, err := testRun().createKeyed(context.Background(), []string{"a", "b", "c"}, f.create)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.ids) != 2 || res.ids["a"] == 0 || res.ids["c"] == 0 || res.rejected["b"] == "" || f.calls != 2 {
		t.Fatalf("res %+v calls %d", res, f.calls)
	}
}

func TestCreateKeyed_RefusalNamingNoItemIsNarrowedDownOneByOne(t *testing.T) {
	f := &fakeCreate{bad: map[string]string{"c": "plain"}}
	res, err := testRun().createKeyed(context.Background(), []string{"a", "b", "c", "d"}, f.create)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.ids) != 3 || res.rejected["c"] == "" || f.calls != 5 {
		t.Fatalf("res %+v calls %d", res, f.calls)
	}
}

func TestCreateKeyed_RefusalEveryItemMeetsCostsNoRequestPerItem(t *testing.T) {
	f := &fakeCreate{err: fmt.Errorf("amocrm: HTTP 400 rights restricted: %w", domain.ErrBadRequest)}
	keys := []string{"a", "b", "c", "d", "e", "f"}
	res, err := testRun().createKeyed(context.Background(), keys, f.create)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.rejected) != len(keys) || f.calls != 3 {
		t.Fatalf("rejected %d, calls %d", len(res.rejected), f.calls)
	}
}

func TestCreateKeyed_AmbiguousFailureIsNeverRetried(t *testing.T) {
	f := &fakeCreate{err: fmt.Errorf("amocrm: HTTP 504: %w", domain.ErrTransient)}
	r := testRun()
	res, err := r.createKeyed(context.Background(), []string{"a", "b"}, f.create)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.postponed) != 2 || f.calls != 1 || r.transient != 1 {
		t.Fatalf("res %+v calls %d", res, f.calls)
	}
}

func TestCreateKeyed_FatalErrorStopsTheRun(t *testing.T) {
	f := &fakeCreate{err: fmt.Errorf("amocrm: HTTP 403: %w", domain.ErrBanned)}
	if _, err := testRun().createKeyed(context.Background(), []string{"a"}, f.create); err == nil {
		t.Fatal("no error")
	}
}
