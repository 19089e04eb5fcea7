package domain

import (
	"sync"
	"time"

	// Shared hosting often lacks /usr/share/zoneinfo; Almaty must load
	// there too, with its history (the 2024 change from UTC+6 to UTC+5).
	_ "time/tzdata"
)

// Almaty is the shops' and Kaspi's time zone: Kaspi's dates, the notes,
// the order date field, log file names and the status page use it. It
// falls back to UTC+5 only if the embedded zone data were missing.
var Almaty = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("Asia/Almaty")
	if err != nil {
		return time.FixedZone("+05", 5*3600)
	}
	return loc
})
