package demo

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/scimbridge/scimbridge/adapters/api"
)

// adminClient is an admin working through scimbridge's admin API, with
// an admin token: the script reads what scimbridge planned, and works
// some tasks as the company's IT would.
type adminClient struct{ jsonClient }

func newAdminClient(hc *http.Client, base, token string) *adminClient {
	return &adminClient{jsonClient{hc: hc, base: base, token: token, limit: 8 * maxAnswer, contentType: "application/json"}}
}

// tasks lists the tasks that match q, every page of them.
func (c *adminClient) tasks(ctx context.Context, q url.Values) ([]api.Task, error) {
	var out []api.Task
	q.Set("limit", "1000")
	for {
		var page struct {
			Tasks     []api.Task `json:"tasks"`
			NextAfter int64      `json:"nextAfter"`
		}
		if err := c.do(ctx, http.MethodGet, "/api/v1/tasks?"+q.Encode(), nil, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Tasks...)
		if page.NextAfter == 0 {
			return out, nil
		}
		q.Set("after", strconv.FormatInt(page.NextAfter, 10))
	}
}

// accounts lists an app's accounts.
func (c *adminClient) accounts(ctx context.Context, app string) ([]api.Account, error) {
	var page struct {
		Accounts []api.Account `json:"accounts"`
	}
	err := c.do(ctx, http.MethodGet, "/api/v1/apps/"+url.PathEscape(app)+"/accounts", nil, &page)
	return page.Accounts, err
}

// seats is an app's seat ledger.
func (c *adminClient) seats(ctx context.Context, app string) (api.Seats, error) {
	var s api.Seats
	err := c.do(ctx, http.MethodGet, "/api/v1/apps/"+url.PathEscape(app)+"/seats", nil, &s)
	return s, err
}

// done reports a task done, with a note of what was done.
func (c *adminClient) done(ctx context.Context, id int64, note string) error {
	return c.do(ctx, http.MethodPost, fmt.Sprintf("/api/v1/tasks/%d/done", id), map[string]string{"note": note}, nil)
}
