package syncer

import (
	"context"
	"errors"
	"strings"

	"kaspi-amocrm/pkg/domain"
)

// createResult is the outcome of createKeyed, per key.
type createResult struct {
	ids       map[string]int64
	rejected  map[string]string                // amoCRM refused the item: set its orders aside
	postponed map[string]error                 // outcome unknown or not tried: search first next time
	plain     map[string]bool                  // rejected by a refusal that named no item
	problems  map[string][]domain.FieldProblem // code and path of each rejection amoCRM detailed
}

// createKeyed creates the items named by keys (request ids) in one call,
// and handles a partial refusal: the items a validation error names are
// rejected and the others sent again (a 400 creates nothing); a refusal
// that names no item is narrowed down by sending the items one by one. An
// ambiguous failure is never retried here: those keys are postponed.
// Only a fatal error is returned.
func (r *run) createKeyed(ctx context.Context, keys []string, create func([]string) (map[string]int64, error)) (createResult, error) {
	res := createResult{ids: map[string]int64{}, rejected: map[string]string{}, postponed: map[string]error{}, plain: map[string]bool{},
		problems: map[string][]domain.FieldProblem{}}
	if len(keys) > domain.MaxBatch {
		// amoCRM refuses a batch over the limit without naming an item;
		// sent whole, it would fall back to one request per item.
		for len(keys) > 0 {
			n := min(len(keys), domain.MaxBatch)
			chunk, err := r.createKeyed(ctx, keys[:n], create)
			merge(res, chunk)
			if err != nil {
				return res, err
			}
			keys = keys[n:]
		}
		return res, nil
	}
	pending := keys
	for round := 0; len(pending) > 0 && round < 3; round++ {
		ids, err := create(pending)
		if err == nil {
			for _, k := range pending {
				if id := ids[k]; id > 0 {
					res.ids[k] = id
				} else {
					res.postponed[k] = errors.New("amoCRM answered without this item's id")
				}
			}
			return res, nil
		}
		if fatal(err) {
			return res, err
		}
		if errors.Is(err, domain.ErrTransient) {
			r.noteTransient(err)
			for _, k := range pending {
				res.postponed[k] = err
			}
			return res, nil
		}
		var ve *domain.ValidationError
		if errors.As(err, &ve) {
			var rest []string
			for _, k := range pending {
				if msgs, ok := ve.Items[k]; ok {
					res.rejected[k] = oneLine(strings.Join(msgs, "; "))
					res.problems[k] = ve.Problems[k]
				} else {
					rest = append(rest, k)
				}
			}
			if len(rest) < len(pending) {
				pending = rest
				continue
			}
		}
		// Refused without naming an item we sent.
		if len(pending) == 1 {
			res.rejected[pending[0]] = oneLine(err.Error())
			res.plain[pending[0]] = true
			return res, nil
		}
		// A refusal that every item meets alike (account rights, a setting
		// of the account) must not cost one request per item: after two
		// items refused alone in a row with none accepted, the rest share
		// their fate (set aside, retried after the backoff).
		plainRefusals, accepted := 0, false
		for i, k := range pending {
			if plainRefusals >= 2 && !accepted {
				for _, rest := range pending[i:] {
					res.rejected[rest] = oneLine(err.Error())
				}
				break
			}
			one, ferr := r.createKeyed(ctx, []string{k}, create)
			if ferr != nil {
				return res, ferr
			}
			merge(res, one)
			if len(one.ids) > 0 {
				accepted = true
			} else if one.plain[k] {
				plainRefusals++
			}
		}
		return res, nil
	}
	for _, k := range pending {
		res.postponed[k] = errors.New("amoCRM kept refusing the batch")
	}
	return res, nil
}

func merge(dst, src createResult) {
	for k, v := range src.ids {
		dst.ids[k] = v
	}
	for k, v := range src.rejected {
		dst.rejected[k] = v
	}
	for k, v := range src.postponed {
		dst.postponed[k] = v
	}
	for k, v := range src.problems {
		dst.problems[k] = v
	}
	for k, v := range src.plain {
		dst.plain[k] = v
	}
}

func idsByRequest[T any](items []T, get func(T) (string, int64)) map[string]int64 {
	m := make(map[string]int64, len(items))
	for _, it := range items {
		if k, id := get(it); k != "" && id > 0 {
			m[k] = id
		}
	}
	return m
}
