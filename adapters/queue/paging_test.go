package queue_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/adapters/account"
	"github.com/scimbridge/scimbridge/adapters/queue"
	"github.com/scimbridge/scimbridge/adapters/task"
)

// TestPagingAndCounts fills two apps with tasks in several statuses and
// checks that pages, filters and counts agree with the rows put in.
func TestPagingAndCounts(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	statuses := []task.Status{task.Open, task.Claimed, task.Done, task.AwaitingApproval, task.Cancelled}
	var acmeIDs, acmeOpen, acmePending []int64
	err := in(t, db, func(q queue.Queue) error {
		for i := range 25 {
			for _, app := range []string{"acme", "other"} {
				st := statuses[i%len(statuses)]
				tk := task.Task{App: app, UserID: fmt.Sprintf("u%d", i), UserName: fmt.Sprintf("u%d@x.com", i),
					Kind: "create", Status: st, Due: now.Add(time.Duration(i-10) * time.Hour)}
				if err := q.AddTask(ctx, &tk, "scimbridge", "test"); err != nil {
					return err
				}
				if app != "acme" {
					continue
				}
				acmeIDs = append(acmeIDs, tk.ID)
				if st == task.Open {
					acmeOpen = append(acmeOpen, tk.ID)
				}
				if st.Pending() {
					acmePending = append(acmePending, tk.ID)
				}
				a := account.Account{App: app, UserID: tk.UserID, UserName: tk.UserName, State: account.Pending}
				if i%2 == 0 {
					a.State = account.Active
				}
				if err := q.PutAccount(ctx, &a, "scimbridge", "test"); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	q := queue.In(db.ReadSQL())

	// Walking the pages of a filter yields exactly its rows, in order.
	for _, c := range []struct {
		name string
		f    queue.Filter
		want []int64
	}{
		{"app", queue.Filter{App: "acme"}, acmeIDs},
		{"app and status", queue.Filter{App: "acme", Status: task.Open}, acmeOpen},
		{"pending", queue.Filter{App: "acme", Pending: true}, acmePending},
	} {
		for _, limit := range []int{1, 4, 7, 100} {
			t.Run(fmt.Sprintf("%s/limit %d", c.name, limit), func(t *testing.T) {
				var got []int64
				f := c.f
				f.Limit = limit
				for pages := 0; ; pages++ {
					if pages > len(c.want)+1 {
						t.Fatal("paging does not end")
					}
					list, err := q.Tasks(ctx, f)
					if err != nil {
						t.Fatal(err)
					}
					if len(list) > limit {
						t.Fatalf("page of %d, limit %d", len(list), limit)
					}
					for _, tk := range list {
						got = append(got, tk.ID)
					}
					if len(list) < limit {
						break
					}
					f.After = list[len(list)-1].ID
				}
				if !slices.Equal(got, c.want) {
					t.Errorf("ids %v, want %v", got, c.want)
				}
			})
		}
	}

	counts, err := q.CountTasks(ctx, "acme", now)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range statuses {
		if counts.ByStatus[st] != 5 {
			t.Errorf("%d %s tasks counted, want 5", counts.ByStatus[st], st)
		}
	}
	// Due times run from now-10h upwards by the hour: of the pending
	// tasks (i%5 in 0,1,3), those with i < 10 are overdue.
	wantOverdue := 0
	for i := range 10 {
		if statuses[i%len(statuses)].Pending() {
			wantOverdue++
		}
	}
	if counts.Overdue != wantOverdue {
		t.Errorf("%d overdue, want %d", counts.Overdue, wantOverdue)
	}
	// The counters follow moves, as the triggers keep them.
	err = in(t, db, func(w queue.Queue) error {
		_, err := w.Move(ctx, acmeOpen[0], queue.Change{To: task.Claimed, Actor: "ann"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	moved, err := q.CountTasks(ctx, "acme", now)
	if err != nil || moved.ByStatus[task.Open] != 4 || moved.ByStatus[task.Claimed] != 6 {
		t.Errorf("after a claim: %v, %v", moved.ByStatus, err)
	}
	accounts, err := q.CountAccounts(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if accounts[account.Active] != 13 || accounts[account.Pending] != 12 || len(accounts) != 2 {
		t.Errorf("accounts by state %v, want 13 active and 12 pending", accounts)
	}

	// Audit pages by seq, and a task's own entries can be asked for.
	all, err := q.AuditOf(ctx, queue.AuditFilter{App: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	first, err := q.AuditOf(ctx, queue.AuditFilter{App: "acme", Limit: 3})
	if err != nil || len(first) != 3 || first[2].Seq != all[2].Seq {
		t.Fatalf("first page %v, %v", first, err)
	}
	rest, err := q.AuditOf(ctx, queue.AuditFilter{App: "acme", After: first[2].Seq})
	if err != nil || len(rest) != len(all)-3 {
		t.Fatalf("rest: %d entries, %v; want %d", len(rest), err, len(all)-3)
	}
	one, err := q.AuditOf(ctx, queue.AuditFilter{TaskID: acmeIDs[4]})
	if err != nil || len(one) != 1 || one[0].TaskID != acmeIDs[4] || one[0].UserName != "u4@x.com" {
		t.Errorf("audit of task %d: %+v, %v", acmeIDs[4], one, err)
	}
}

func TestAccountsPage(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	var want, active []string
	err := in(t, db, func(q queue.Queue) error {
		for i := range 23 {
			// Two accounts share a user name: the id breaks the tie.
			a := account.Account{App: "acme", UserID: fmt.Sprintf("id%02d", i), UserName: fmt.Sprintf("u%02d@x.com", i/2*2), State: account.Pending}
			if i%3 == 0 {
				a.State = account.Active
			}
			if err := q.PutAccount(ctx, &a, "scimbridge", "test"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	q := queue.In(db.ReadSQL())
	all, err := q.Accounts(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range all {
		want = append(want, a.UserID)
		if a.State == account.Active {
			active = append(active, a.UserID)
		}
	}
	for _, c := range []struct {
		state account.State
		want  []string
	}{{"", want}, {account.Active, active}} {
		var got []string
		name, id := "", ""
		for range 10 {
			page, err := q.AccountsPage(ctx, "acme", c.state, name, id, 7)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range page {
				got = append(got, a.UserID)
			}
			if len(page) < 7 {
				break
			}
			name, id = page[6].UserName, page[6].UserID
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("state %q: pages gave %v, want %v", c.state, got, c.want)
		}
	}
}
