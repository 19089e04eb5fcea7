package syncer

// Shared hosting often lacks /usr/share/zoneinfo; the notes and the order
// date field need Asia/Almaty with its history.
import _ "time/tzdata"
