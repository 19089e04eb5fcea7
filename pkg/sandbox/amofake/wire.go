package amofake

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Validation error codes. amoCRM publishes only the first two; the others
// are the fake's own names for checks the real API is known to make.
const (
	codeNotSupported  = "NotSupportedChoice"
	codeNotExpected   = "FieldNotExpected"
	codeInvalidType   = "InvalidType"
	codeNotBlank      = "NotBlank"
	codeInvalidLength = "InvalidLength"
)

var codeDetails = map[string]string{
	codeNotSupported:  "The value you selected is not a valid choice.",
	codeNotExpected:   "This field was not expected.",
	codeInvalidType:   "This value has an invalid type.",
	codeNotBlank:      "This value should not be blank.",
	codeInvalidLength: "This value is too long.",
}

// vErr is one entry of a validation-errors item.
type vErr struct {
	Code   string `json:"code"`
	Path   string `json:"path"`
	Detail string `json:"detail"`
}

// check collects the validation errors of one batch item.
type check struct{ errs []vErr }

func (c *check) add(code, path string) {
	c.errs = append(c.errs, vErr{Code: code, Path: path, Detail: codeDetails[code]})
}

func (c *check) ok() bool { return len(c.errs) == 0 }

// itemErrors is one element of the validation-errors array.
type itemErrors struct {
	RequestID string `json:"request_id"`
	Errors    []vErr `json:"errors"`
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// decodeJSON reads a request body keeping numbers as json.Number, so that
// "price": 45990.0 can be told apart from 45990.
func decodeJSON(r *http.Request) (any, error) {
	dec := json.NewDecoder(io.LimitReader(r.Body, 16<<20))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing data after the JSON value")
	}
	return v, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/hal+json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeProblem(w http.ResponseWriter, status int, body map[string]any) {
	raw, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_, _ = w.Write(raw)
}

// problem answers a plain problem+json error the way the API does.
func problem(w http.ResponseWriter, status int, detail string) {
	writeProblem(w, status, map[string]any{
		"title":  http.StatusText(status),
		"type":   "https://httpstatus.es/" + strconv.Itoa(status),
		"status": status,
		"detail": detail,
	})
}

func validationFailed(w http.ResponseWriter, items []itemErrors) {
	writeProblem(w, http.StatusBadRequest, map[string]any{
		"validation-errors": items,
		"title":             "Bad Request",
		"type":              "https://httpstatus.es/400",
		"status":            400,
		"detail":            "Request validation failed",
	})
}

// nginxPage is the gateway's HTML page for a status (429, 403, 502, 504).
func nginxPage(w http.ResponseWriter, status int) {
	text := fmt.Sprintf("%d %s", status, http.StatusText(status))
	w.Header().Set("Server", "nginx")
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<html>\r\n<head><title>%s</title></head>\r\n<body>\r\n<center><h1>%s</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n", text, text)
}

func noContent(w http.ResponseWriter) { w.WriteHeader(http.StatusNoContent) }

// baseURL is the scheme and host the request came to, so that _links
// can be followed literally against the fake.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func href(r *http.Request, path string) map[string]any {
	return map[string]any{"href": baseURL(r) + path}
}

// Number helpers over json.Number values.

func asInt(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := strconv.ParseInt(string(n), 10, 64)
	return i, err == nil
}

// asFloat accepts a JSON number or a numeric string.
func asFloat(v any) (float64, string, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, string(x), err == nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, strings.TrimSpace(x), err == nil
	}
	return 0, "", false
}

// pageReq is the page and limit of a list request.
type pageReq struct{ page, limit int }

// parsePage reads page (1-based) and limit (default 50). A limit above
// maxLimit is not honoured but capped, as amoCRM does (#210).
func parsePage(q url.Values, maxLimit int) pageReq {
	p := pageReq{page: 1, limit: 50}
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 0 {
		p.page = n
	}
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > 0 {
		p.limit = n
	}
	if p.limit > maxLimit {
		p.limit = maxLimit
	}
	return p
}

// writeList answers one page of a HAL collection, or 204 when the page is
// empty (no results, or past the end).
func writeList(w http.ResponseWriter, r *http.Request, entity string, items []any, p pageReq) {
	start := (p.page - 1) * p.limit
	if start >= len(items) {
		noContent(w)
		return
	}
	end := min(start+p.limit, len(items))
	links := map[string]any{"self": pageHref(r, p.page, p.limit)}
	if end < len(items) {
		links["next"] = pageHref(r, p.page+1, p.limit)
	}
	if p.page > 1 {
		links["prev"] = pageHref(r, p.page-1, p.limit)
		links["first"] = pageHref(r, 1, p.limit)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"_page":     p.page,
		"_links":    links,
		"_embedded": map[string]any{entity: items[start:end]},
	})
}

func pageHref(r *http.Request, page, limit int) map[string]any {
	q := r.URL.Query()
	q.Set("page", strconv.Itoa(page))
	q.Set("limit", strconv.Itoa(limit))
	return map[string]any{"href": baseURL(r) + r.URL.Path + "?" + q.Encode()}
}

// idFilter reads filter[id][]=1&filter[id][]=2 (also filter[id][0]=1 and
// filter[id]=1). ok is false when no id filter was given.
func idFilter(q url.Values) (map[int64]bool, bool) {
	ids := map[int64]bool{}
	found := false
	for key, vals := range q {
		if key != "filter[id]" && !strings.HasPrefix(key, "filter[id][") {
			continue
		}
		found = true
		for _, v := range vals {
			for part := range strings.SplitSeq(v, ",") {
				if n, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64); err == nil {
					ids[n] = true
				}
			}
		}
	}
	return ids, found
}

// withSet reads with=a,b.
func withSet(q url.Values) map[string]bool {
	m := map[string]bool{}
	for _, v := range q["with"] {
		for part := range strings.SplitSeq(v, ",") {
			m[strings.TrimSpace(part)] = true
		}
	}
	return m
}
