package kaspifake

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"time"

	"kaspi-amocrm/pkg/domain"
)

// AddOrder stores an order as Kaspi would show it and returns it as stored.
// A missing ID is derived from the code, missing entry ids and numbers from
// the position, and a zero TotalPrice becomes the sum of the lines. The
// order is visible at once; see SetVisibleAt. Adding a known code replaces
// that order.
func (s *Server) AddOrder(o domain.Order) domain.Order {
	o = cloneOrder(o)
	if o.ID == "" {
		o.ID = b64(o.Code + ":q0")
	}
	for i := range o.Lines {
		l := &o.Lines[i]
		if l.EntryID == "" {
			l.EntryNumber = i
			l.EntryID = b64(o.Code + "##" + strconv.Itoa(i))
		}
		if l.TotalPrice == 0 {
			l.TotalPrice = l.BasePrice * l.Quantity
		}
	}
	if o.TotalPrice == 0 {
		o.TotalPrice = linesTotal(o.Lines)
	}
	o.LinesLoaded = true
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.byCode[o.Code]; ok {
		delete(s.orders, old)
	}
	s.orders[o.ID] = &order{o: o}
	s.byCode[o.Code] = o.ID
	return cloneOrder(o)
}

// AddOrders stores several orders.
func (s *Server) AddOrders(orders []domain.Order) {
	for _, o := range orders {
		s.AddOrder(o)
	}
}

// Update changes a stored order in place through fn.
func (s *Server) Update(code string, fn func(o *domain.Order)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	so, err := s.find(code)
	if err != nil {
		return err
	}
	fn(&so.o)
	return nil
}

// SetStatus moves an order, as the cabinet or the buyer would.
func (s *Server) SetStatus(code, state, status, cancellationReason string) error {
	return s.Update(code, func(o *domain.Order) {
		o.State, o.Status, o.CancellationReason = state, status, cancellationReason
	})
}

// SetTotal changes the order total (e.g. after a partial cancellation).
func (s *Server) SetTotal(code string, total float64) error {
	return s.Update(code, func(o *domain.Order) { o.TotalPrice = total })
}

// RemoveLine removes the line with entryNumber and lowers the total by its
// amount, as a partial cancellation does.
func (s *Server) RemoveLine(code string, entryNumber int) error {
	var missing bool
	err := s.Update(code, func(o *domain.Order) {
		i := slices.IndexFunc(o.Lines, func(l domain.Line) bool { return l.EntryNumber == entryNumber })
		if i < 0 {
			missing = true
			return
		}
		o.TotalPrice -= o.Lines[i].TotalPrice
		o.Lines = slices.Delete(o.Lines, i, i+1)
	})
	if err == nil && missing {
		err = fmt.Errorf("kaspifake: order %s has no entry %d", code, entryNumber)
	}
	return err
}

// SetVisibleAt hides an order from every endpoint until t (by the fake's
// clock), as an order awaiting bank approval is hidden.
func (s *Server) SetVisibleAt(code string, t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	so, err := s.find(code)
	if err != nil {
		return err
	}
	so.visibleAt = t
	return nil
}

// Order returns a stored order by code, visible or not.
func (s *Server) Order(code string) (domain.Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	so, err := s.find(code)
	if err != nil {
		return domain.Order{}, false
	}
	so.settle(s.now())
	return cloneOrder(so.o), true
}

// Orders returns every stored order, oldest creationDate first.
func (s *Server) Orders() []domain.Order {
	s.mu.Lock()
	out := make([]domain.Order, 0, len(s.orders))
	for _, so := range s.orders {
		out = append(out, cloneOrder(so.o))
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b domain.Order) int {
		if c := cmp.Compare(a.CreationMs, b.CreationMs); c != 0 {
			return c
		}
		return cmp.Compare(a.Code, b.Code)
	})
	return out
}

// Requests returns a copy of the request log.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// RequestCount returns how many requests the fake has answered.
func (s *Server) RequestCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// ResetRequests clears the request log.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

func (s *Server) find(code string) (*order, error) {
	id, ok := s.byCode[code]
	if !ok {
		return nil, fmt.Errorf("kaspifake: no order %s", code)
	}
	return s.orders[id], nil
}

func linesTotal(lines []domain.Line) float64 {
	var t float64
	for _, l := range lines {
		t += l.TotalPrice
	}
	return t
}
