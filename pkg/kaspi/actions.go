package kaspi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"kaspi-amocrm/pkg/domain"
)

// The merchant's status changes: POST /orders with a JSON:API document
// naming the order and the new status (docs/kaspi-api.md §6.2). A change
// is sent once: a timeout, a 5xx or a dropped connection leaves its
// outcome unknown (Kaspi may have applied it), so the error unwraps to
// domain.ErrTransient and the caller re-reads the order before deciding
// anything, never POSTs again blindly. Only a 429, which Kaspi answers
// before doing anything, is retried. A refusal (the buyer already
// cancelled, a wrong code, a step not allowed from the order's status) is
// an *APIError unwrapping to domain.ErrBadRequest with Kaspi's reason in
// Title.

// Status values a change sends besides the order statuses of pkg/domain.
const statusAssemble = "ASSEMBLE"

// actionBody is the JSON:API document of a status change.
type actionBody struct {
	Data actionData `json:"data"`
}

type actionData struct {
	Type       string           `json:"type"`
	ID         string           `json:"id"`
	Attributes actionAttributes `json:"attributes"`
}

type actionAttributes struct {
	Code                string `json:"code"`
	Status              string `json:"status"`
	CancellationReason  string `json:"cancellationReason,omitempty"`
	CancellationComment string `json:"cancellationComment,omitempty"`
	NumberOfSpace       int    `json:"numberOfSpace,omitempty"`
}

// maxCancellationComment is the documented cap of cancellationComment.
const maxCancellationComment = 1000

// Accept accepts a new order (APPROVED_BY_BANK → ACCEPTED_BY_MERCHANT) and
// returns the order as Kaspi echoes it.
func (c *Client) Accept(ctx context.Context, o domain.Order) (domain.Order, error) {
	return c.change(ctx, "accept", o, actionAttributes{Status: domain.StatusAcceptedByMerchant}, nil)
}

// Cancel cancels an order with one of the reasons a merchant may send
// (BUYER_CANCELLATION_BY_MERCHANT, BUYER_NOT_REACHABLE,
// MERCHANT_OUT_OF_STOCK) and an optional comment, cut to 1,000 characters.
func (c *Client) Cancel(ctx context.Context, o domain.Order, reason, comment string) (domain.Order, error) {
	if r := []rune(comment); len(r) > maxCancellationComment {
		comment = string(r[:maxCancellationComment])
	}
	return c.change(ctx, "cancel", o, actionAttributes{
		Status: domain.StatusCancelled, CancellationReason: reason, CancellationComment: comment,
	}, nil)
}

// Assemble hands a Kaspi Delivery order over as parcels (numberOfSpace ≥ 1).
// The waybill appears later: poll the order for Waybill.
func (c *Client) Assemble(ctx context.Context, o domain.Order, parcels int) (domain.Order, error) {
	if parcels < 1 {
		parcels = 1
	}
	return c.change(ctx, "assemble", o, actionAttributes{Status: statusAssemble, NumberOfSpace: parcels}, nil)
}

// SendCompletionCode asks Kaspi to send the buyer the code that completes
// the order (the first of the two COMPLETED calls: an empty
// X-Security-Code and X-Send-Code: true).
func (c *Client) SendCompletionCode(ctx context.Context, o domain.Order) (domain.Order, error) {
	return c.change(ctx, "send completion code", o, actionAttributes{Status: domain.StatusCompleted},
		map[string]string{"X-Security-Code": "", "X-Send-Code": "true"})
}

// Complete completes the order with the code the buyer received.
func (c *Client) Complete(ctx context.Context, o domain.Order, securityCode string) (domain.Order, error) {
	return c.change(ctx, "complete", o, actionAttributes{Status: domain.StatusCompleted},
		map[string]string{"X-Security-Code": securityCode, "X-Send-Code": "true"})
}

// change sends one status change and decodes the echoed order.
func (c *Client) change(ctx context.Context, what string, o domain.Order, attrs actionAttributes, headers map[string]string) (domain.Order, error) {
	const op = "POST /orders"
	if o.ID == "" {
		return domain.Order{}, fmt.Errorf("kaspi: %s order %s: no order id", what, o.Code)
	}
	attrs.Code = o.Code
	body, err := json.Marshal(actionBody{Data: actionData{Type: "orders", ID: o.ID, Attributes: attrs}})
	if err != nil {
		return domain.Order{}, fmt.Errorf("kaspi: %s order %s: %w", what, o.Code, err)
	}
	var answer []byte
	for attempt := 0; ; attempt++ {
		var apiErr *APIError
		answer, apiErr = c.post(ctx, op, body, headers)
		if apiErr == nil {
			break
		}
		if apiErr.Status != http.StatusTooManyRequests || attempt >= c.maxRetries || ctx.Err() != nil {
			return domain.Order{}, fmt.Errorf("kaspi: %s order %s: %w", what, o.Code, apiErr)
		}
		t := time.NewTimer(c.backoff(attempt))
		select {
		case <-ctx.Done():
			t.Stop()
			return domain.Order{}, fmt.Errorf("kaspi: %s order %s: %w", what, o.Code, ctx.Err())
		case <-t.C:
		}
	}
	got, derr := decodeSingle(answer)
	if derr != nil {
		// Kaspi answered 200: the change was applied, only the echo is
		// unreadable. Report what was sent; the caller re-reads the order.
		return domain.Order{}, fmt.Errorf("kaspi: %s order %s: %w", what, o.Code,
			&APIError{Op: op, Status: 200, Kind: domain.ErrTransient, Err: derr})
	}
	return got, nil
}

// post sends one POST and classifies the answer as get does.
func (c *Client) post(ctx context.Context, op string, body []byte, headers map[string]string) ([]byte, *APIError) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/orders", bytes.NewReader(body))
	if err != nil {
		return nil, &APIError{Op: op, Kind: domain.ErrBadRequest, Err: err}
	}
	req.Header.Set("X-Auth-Token", c.token)
	req.Header.Set("Accept", mediaType)
	req.Header.Set("Content-Type", mediaType)
	req.Header.Set("User-Agent", c.userAgent)
	for k, v := range headers {
		// Set with an empty value still sends the header, as the first
		// completion step needs (X-Security-Code: "").
		req.Header[http.CanonicalHeaderKey(k)] = []string{v}
	}
	c.requests.Add(1)
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, &APIError{Op: op, Kind: domain.ErrTransient, Err: stripURL(err)}
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, &APIError{Op: op, Status: resp.StatusCode, Kind: domain.ErrTransient, Err: stripURL(err)}
	}
	c.log.Debug("kaspi: request", "op", op, "status", resp.StatusCode, "bytes", len(answer))
	return answer, classify(op, resp.StatusCode, answer)
}

// decodeSingle reads a single-order document ({"data": {…}}).
func decodeSingle(body []byte) (domain.Order, error) {
	var doc document
	if err := json.Unmarshal(body, &doc); err != nil {
		return domain.Order{}, err
	}
	var r resource
	if len(doc.Data) == 0 || json.Unmarshal(doc.Data, &r) != nil {
		return domain.Order{}, errNoData
	}
	o, ok := decodeOrder(r)
	if !ok {
		return domain.Order{}, fmt.Errorf("order document without a code (id %s)", strconv.Quote(string(r.ID)))
	}
	return o, nil
}
