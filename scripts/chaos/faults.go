package main

import (
	"path"
	"time"

	"kaspi-amocrm/pkg/sandbox/amofake"
	"kaspi-amocrm/pkg/sandbox/kaspifake"
)

// faultFor is a ghost create on one endpoint: "ghost" applies the request
// and answers 504, "ghost-drop" applies it and drops the connection.
func faultFor(path, kind string) amofake.Fault {
	return amofake.Fault{Method: "POST", Path: path, Kind: amofake.FaultKind(kind), Times: 1}
}

func amoFault(method, path, kind string, status, times int) amofake.Fault {
	return amofake.Fault{Method: method, Path: path, Kind: amofake.FaultKind(kind), Status: status, Times: times, Delay: time.Duration(0)}
}

// kaspiStorm makes Kaspi answer 503 and then 429 on every endpoint.
func kaspiStorm(w *world) {
	w.sb.Kaspi.Fail(kaspifake.EndpointAny, kaspifake.ServerError(), 6)
	w.sb.Kaspi.Fail(kaspifake.EndpointAny, kaspifake.TooManyRequests(), 4)
}

// triggered reports whether the fake applied a fault of this kind on path.
func triggered(w *world, pattern, kind string) bool {
	for _, r := range w.sb.Amo.Requests() {
		if ok, _ := path.Match(pattern, r.Path); ok && r.Fault == kind {
			return true
		}
	}
	return false
}
