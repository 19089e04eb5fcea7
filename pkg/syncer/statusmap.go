package syncer

// StatusMap resolves a Kaspi order to the amoCRM status its deal belongs
// in. Keys are Kaspi statuses or states; a status match wins over a state
// match, and an order matching neither is left where it is (0).
type StatusMap map[string]int64

// MergeStatusMaps overlays the .env map on the database's status_mapping
// rows: the .env value wins on the same key.
func MergeStatusMaps(fromDB, fromEnv map[string]int64) StatusMap {
	m := make(StatusMap, len(fromDB)+len(fromEnv))
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
func (m StatusMap) Resolve(status, state string) int64 {
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
