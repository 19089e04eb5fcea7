package status

import (
	"context"
	"encoding/json"
	"fmt"

	"kaspi-amocrm/pkg/domain"
)

// ContactIndex is how the sync finds the contact of a new phone: the
// local phone index, or one search per phone.
type ContactIndex struct {
	// Mode is "" (not built yet), "building", or one of domain's index
	// modes (filter, order, search, too_large).
	Mode     string `json:"mode"`
	Contacts int    `json:"contacts"`
	// Text says it in one Russian line.
	Text string `json:"text"`
}

func contactIndexState(ctx context.Context, src Source) (ContactIndex, error) {
	v, ok, err := src.Setting(ctx, domain.ContactIndexKey)
	if err != nil {
		return ContactIndex{}, err
	}
	var st domain.ContactIndexState
	if ok && json.Unmarshal([]byte(v), &st) != nil {
		st = domain.ContactIndexState{}
	}
	return DescribeContactIndex(st), nil
}

// DescribeContactIndex turns the index state into the status line.
func DescribeContactIndex(st domain.ContactIndexState) ContactIndex {
	ci := ContactIndex{Mode: st.Mode, Contacts: st.Contacts}
	switch {
	case st.Mode == domain.IndexModeTooLarge:
		ci.Text = "поиск каждого нового номера в amoCRM: контактов больше AMO_CONTACT_INDEX_MAX"
	case st.Mode == domain.IndexModeSearch:
		ci.Text = "поиск каждого нового номера в amoCRM: список контактов аккаунта не фильтруется и не сортируется по дате изменения"
	case !st.Complete && st.NextPage > 0:
		ci.Mode = "building"
		ci.Text = fmt.Sprintf("индекс телефонов строится: прочитано контактов %d", st.Contacts)
	case !st.Complete:
		ci.Text = "индекс телефонов ещё не построен (строится в первом запуске с новыми покупателями)"
	case st.Mode == domain.IndexModeOrder:
		ci.Text = "индекс телефонов; изменения читаются по дате изменения (фильтры API на аккаунте не включены)"
	default:
		ci.Text = "индекс телефонов; изменения читаются фильтром amoCRM по дате изменения"
	}
	return ci
}
