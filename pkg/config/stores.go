package config

import (
	"fmt"
	"kaspi-amocrm/pkg/domain"
	"maps"
	"strconv"
)

// MaxKaspiStores is how many Kaspi stores one install serves: the
// unsuffixed keys are store 1, the suffixes _2 … _9 the others.
const MaxKaspiStores = 9

// KaspiStore is one Kaspi store of the install: its API token and what
// its deals get in amoCRM. Store 1 reads the unsuffixed keys (a PHP .env
// keeps working unchanged); store n reads the same keys with the suffix
// _n, and a per-store amoCRM value left empty takes the unsuffixed one.
//
// A new per-store setting is one field here and one line in
// readKaspiStore; its key is s.Key("BASE") so that errors name the key
// of the store at hand.
type KaspiStore struct {
	No     int    // 1 … MaxKaspiStores
	Suffix string // "" for store 1, "_2" … "_9"
	Name   string // KASPI_STORE_NAME_n ("" when unset)
	Token  Secret // KASPI_API_TOKEN_n

	PipelineID        int64 // AMO_PIPELINE_ID_n, else AMO_PIPELINE_ID
	StatusID          int64 // AMO_STATUS_ID_n, else AMO_STATUS_ID
	ResponsibleUserID int64 // AMO_RESPONSIBLE_USER_ID_n, else AMO_RESPONSIBLE_USER_ID

	// StatusMap is where the store's orders move (Kaspi status or state →
	// stage of PipelineID): AMO_STATUS_MAP_n, else AMO_STATUS_MAP when the
	// store shares the pipeline of store 1, else empty (a store with its
	// own pipeline and no map of its own gets no stage moves).
	StatusMap map[string]int64
	// OwnStatusMap: AMO_STATUS_MAP_n is set.
	OwnStatusMap bool
	// OwnPipeline: the store's deals go to another pipeline than store 1's.
	OwnPipeline bool
	// Actions are the store's stage actions. Store 1's are KASPI_ACTIONS
	// and its settings; store n takes the stages of its own
	// KASPI_ACTIONS_n (stages of its pipeline) and shares the fields, the
	// default reason and the run's limit. Without KASPI_ACTIONS_n store n
	// gets no stage actions (doctor says so).
	Actions domain.ActionSettings
}

// Key is the name of a setting of this store: base plus the store's suffix.
func (s KaspiStore) Key(base string) string { return base + s.Suffix }

// Label names the store for the owner: its KASPI_STORE_NAME, else its number.
func (s KaspiStore) Label() string {
	if s.Name != "" {
		return "«" + s.Name + "»"
	}
	return "№ " + strconv.Itoa(s.No)
}

// NoStageMoves reports whether the store's deals are never moved by the
// status map: it has its own pipeline and no map of its own.
func (s KaspiStore) NoStageMoves() bool { return s.OwnPipeline && !s.OwnStatusMap }

// storeSuffix is the key suffix of store n.
func storeSuffix(n int) string {
	if n == 1 {
		return ""
	}
	return "_" + strconv.Itoa(n)
}

// perStoreKeys are the keys a store other than 1 may set besides its
// token: one of them without the token is a configuration error.
var perStoreKeys = []string{"KASPI_STORE_NAME", "AMO_PIPELINE_ID", "AMO_STATUS_ID", "AMO_RESPONSIBLE_USER_ID", "AMO_STATUS_MAP", "KASPI_ACTIONS"}

// kaspiStores reads every configured store, in number order. Store 1 is
// always there (its token may be empty when the program needs none).
// The numbering has no gaps, a token is used by one store only, and a
// suffixed key needs its store's token.
func (r *reader) kaspiStores(c *Config) []KaspiStore {
	stores := []KaspiStore{r.readKaspiStore(c, 1, c.KaspiAPIToken)}
	last := 1
	if !c.KaspiAPIToken.IsSet() {
		last = 0
	}
	tokens := map[string]string{}
	if c.KaspiAPIToken.IsSet() {
		tokens[c.KaspiAPIToken.Reveal()] = "KASPI_API_TOKEN"
	}
	for n := 2; n <= MaxKaspiStores; n++ {
		sfx := storeSuffix(n)
		tokenKey := "KASPI_API_TOKEN" + sfx
		token := Secret(r.str(tokenKey))
		if !token.IsSet() {
			for _, k := range perStoreKeys {
				if r.str(k+sfx) != "" {
					r.missing(tokenKey, fmt.Sprintf("токен Kaspi Shop API магазина Kaspi № %d (задан %s%s) или уберите настройки этого магазина", n, k, sfx))
					break
				}
			}
			continue
		}
		if last != n-1 {
			r.problem(fmt.Sprintf("%s: задан, а %s нет — магазины Kaspi нумеруются подряд: KASPI_API_TOKEN, KASPI_API_TOKEN_2, KASPI_API_TOKEN_3 …",
				tokenKey, "KASPI_API_TOKEN"+storeSuffix(last+1)))
		}
		last = n
		if other, dup := tokens[token.Reveal()]; dup {
			r.problem(fmt.Sprintf("%s: тот же токен, что и в %s — у каждого магазина Kaspi свой токен; один магазин указывается один раз", tokenKey, other))
			continue
		}
		tokens[token.Reveal()] = tokenKey
		stores = append(stores, r.readKaspiStore(c, n, token))
	}
	return stores
}

// readKaspiStore reads the per-store keys of store n.
func (r *reader) readKaspiStore(c *Config, n int, token Secret) KaspiStore {
	s := KaspiStore{No: n, Suffix: storeSuffix(n), Token: token}
	s.Name = r.str(s.Key("KASPI_STORE_NAME"))
	if n == 1 {
		s.PipelineID, s.StatusID, s.ResponsibleUserID = c.AmoPipelineID, c.AmoStatusID, c.AmoResponsibleUserID
		s.StatusMap, s.OwnStatusMap = c.AmoStatusMap, true
		s.Actions = c.KaspiActions
		return s
	}
	s.Actions = r.storeActions(c.KaspiActions, s.Key("KASPI_ACTIONS"))
	const idHint = "ID из amoCRM (пусто — как у магазина Kaspi № 1)"
	s.PipelineID = r.int64(s.Key("AMO_PIPELINE_ID"), c.AmoPipelineID, idHint)
	s.StatusID = r.int64(s.Key("AMO_STATUS_ID"), c.AmoStatusID, idHint)
	s.ResponsibleUserID = r.int64(s.Key("AMO_RESPONSIBLE_USER_ID"), c.AmoResponsibleUserID, idHint)
	s.OwnPipeline = s.PipelineID != c.AmoPipelineID
	if r.str(s.Key("AMO_STATUS_MAP")) != "" {
		s.StatusMap, s.OwnStatusMap = r.statusMap(s.Key("AMO_STATUS_MAP")), true
	} else if !s.OwnPipeline {
		s.StatusMap = maps.Clone(c.AmoStatusMap)
	} else {
		s.StatusMap = map[string]int64{}
	}
	return s
}
