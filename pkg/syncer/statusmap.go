package syncer

// statusMap resolves a Kaspi order to the amoCRM status its deal belongs
// in. Keys are Kaspi statuses or states; a status match wins over a state
// match, and an order matching neither is left where it is (0).
type statusMap map[string]int64

// mergeStatusMaps overlays the .env map on the database's status_mapping
// rows: the .env value wins on the same key.
func mergeStatusMaps(fromDB, fromEnv map[string]int64) statusMap {
	m := make(statusMap, len(fromDB)+len(fromEnv))
	for k, v := range fromDB {
		if v > 0 {
			m[k] = v
		}
	}
	for k, v := range fromEnv {
		if v > 0 {
			m[k] = v
		}
	}
	return m
}

// Resolve returns the amoCRM status id for an order's status and state, or
// 0 when neither is mapped.
func (m statusMap) Resolve(status, state string) int64 {
	if status != "" {
		if id, ok := m[status]; ok {
			return id
		}
	}
	if state != "" {
		if id, ok := m[state]; ok {
			return id
		}
	}
	return 0
}
