package scim

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/scimbridge/scimbridge/scim/catalog"
	"github.com/scimbridge/scimbridge/scim/query"
	"github.com/scimbridge/scimbridge/scim/store"
)

// listRequest is a list query from a GET query string or a POST .search
// body, before validation.
type listRequest struct {
	Filter             string
	Attributes         string
	ExcludedAttributes string
	SortBy             string
	SortOrder          string
	StartIndex         int
	Count              int
}

// listResult is one page of rendered resources.
type listResult struct {
	total      int
	startIndex int
	resources  []rendered
}

// errListRouting is a routing bug: list requests reached the library.
var errListRouting = errors.New("a list request reached the SCIM library, which scimbridge answers itself")

func (a *appHandler) listFromQuery(w http.ResponseWriter, r *http.Request, res *catalog.Resource) {
	q := r.URL.Query()
	lr := listRequest{
		Filter:             q.Get("filter"),
		Attributes:         q.Get("attributes"),
		ExcludedAttributes: q.Get("excludedAttributes"),
		SortBy:             q.Get("sortBy"),
		SortOrder:          q.Get("sortOrder"),
		StartIndex:         1,
		Count:              a.s.cfg.DefaultPageSize,
	}
	for _, p := range []struct {
		name string
		dst  *int
	}{{"startIndex", &lr.StartIndex}, {"count", &lr.Count}} {
		v := strings.TrimSpace(q.Get(p.name))
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			writeError(w, badRequest("invalidValue", "%s must be an integer, not %q", p.name, v))
			return
		}
		*p.dst = n
	}
	a.writeList(w, r, res, lr)
}

// search answers POST /Users/.search and /Groups/.search (RFC 7644 §3.4.3).
func (a *appHandler) search(w http.ResponseWriter, r *http.Request, res *catalog.Resource) {
	var body struct {
		Schemas            []string `json:"schemas"`
		Filter             string   `json:"filter"`
		Attributes         []string `json:"attributes"`
		ExcludedAttributes []string `json:"excludedAttributes"`
		SortBy             string   `json:"sortBy"`
		SortOrder          string   `json:"sortOrder"`
		StartIndex         *int     `json:"startIndex"`
		Count              *int     `json:"count"`
	}
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&body); err != nil {
		writeError(w, badRequest("invalidSyntax", "the search request does not match RFC 7644 §3.4.3: %s", jsonProblem(err)))
		return
	}
	const searchSchema = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
	if len(body.Schemas) != 1 || !strings.EqualFold(body.Schemas[0], searchSchema) {
		writeError(w, badRequest("invalidValue", "schemas must be [%q]", searchSchema))
		return
	}
	lr := listRequest{
		Filter:             body.Filter,
		Attributes:         strings.Join(body.Attributes, ","),
		ExcludedAttributes: strings.Join(body.ExcludedAttributes, ","),
		SortBy:             body.SortBy,
		SortOrder:          body.SortOrder,
		StartIndex:         1,
		Count:              a.s.cfg.DefaultPageSize,
	}
	if body.StartIndex != nil {
		lr.StartIndex = *body.StartIndex
	}
	if body.Count != nil {
		lr.Count = *body.Count
	}
	a.writeList(w, r, res, lr)
}

func (a *appHandler) writeList(w http.ResponseWriter, r *http.Request, res *catalog.Resource, lr listRequest) {
	result, err := a.list(r.Context(), res, lr)
	if err != nil {
		writeError(w, classify(r.Context(), a.s.log, err))
		return
	}
	buf := make([]byte, 0, 512*len(result.resources)+256)
	buf = append(buf, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":`...)
	buf = strconv.AppendInt(buf, int64(result.total), 10)
	buf = append(buf, `,"itemsPerPage":`...)
	buf = strconv.AppendInt(buf, int64(len(result.resources)), 10)
	buf = append(buf, `,"startIndex":`...)
	buf = strconv.AppendInt(buf, int64(result.startIndex), 10)
	buf = append(buf, `,"Resources":[`...)
	for i, rd := range result.resources {
		if i > 0 {
			buf = append(buf, ',')
		}
		if buf, err = rd.appendJSON(buf, res, a.base); err != nil {
			writeError(w, classify(r.Context(), a.s.log, err))
			return
		}
	}
	buf = append(buf, "]}\n"...)
	w.Header().Set("Content-Type", contentType)
	w.Write(buf)
}

// list validates lr and runs it against the store.
func (a *appHandler) list(ctx context.Context, res *catalog.Resource, lr listRequest) (listResult, error) {
	filter, err := a.s.filters.Parse(res, lr.Filter)
	if err != nil {
		return listResult{}, err
	}
	proj, err := query.ParseProjection(res, lr.Attributes, lr.ExcludedAttributes)
	if err != nil {
		return listResult{}, err
	}
	sort, err := query.ParseSort(res, lr.SortBy, lr.SortOrder)
	if err != nil {
		return listResult{}, err
	}
	q := store.List{
		Filter:     filter,
		Sort:       sort,
		StartIndex: max(lr.StartIndex, 1),
		Count:      min(max(lr.Count, 0), a.s.cfg.MaxPageSize),
	}
	out := listResult{startIndex: q.StartIndex}
	st := a.s.cfg.Store
	switch res {
	case a.s.cat.User:
		q.Load = a.users.load(proj)
		page, err := st.ListUsers(ctx, a.name, q)
		if err != nil {
			return listResult{}, err
		}
		out.total = page.Total
		for _, u := range page.Resources {
			rd, err := a.users.render(u, proj)
			if err != nil {
				return listResult{}, err
			}
			out.resources = append(out.resources, rd)
		}
	default:
		q.Load = a.groups.load(proj)
		page, err := st.ListGroups(ctx, a.name, q)
		if err != nil {
			return listResult{}, err
		}
		out.total = page.Total
		for _, g := range page.Resources {
			rd, err := a.groups.render(g, proj)
			if err != nil {
				return listResult{}, err
			}
			out.resources = append(out.resources, rd)
		}
	}
	return out, nil
}
