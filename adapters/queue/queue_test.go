package queue_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/scimbridge/scimbridge/adapters/account"
	"github.com/scimbridge/scimbridge/adapters/queue"
	"github.com/scimbridge/scimbridge/adapters/task"
	"github.com/scimbridge/scimbridge/scim/store"
	"github.com/scimbridge/scimbridge/scim/store/sqlite"
)

func open(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "q.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := queue.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	return db
}

// in runs fn with the queue inside one write transaction.
func in(t *testing.T, db *sqlite.DB, fn func(q queue.Queue) error) error {
	t.Helper()
	return db.Update(context.Background(), func(tx store.Tx) error {
		s, ok := sqlite.TxSQL(tx)
		if !ok {
			t.Fatal("not a SQLite transaction")
		}
		return fn(queue.In(s))
	})
}

func TestTasksAndAudit(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	var id int64
	err := in(t, db, func(q queue.Queue) error {
		tk := task.Task{App: "acme", UserID: "u1", UserName: "u1@x.com", Kind: "create", Status: task.Open, Role: "User", Steps: []string{"one", "two"}}
		if err := q.AddTask(ctx, &tk, "scimbridge", "change from the IdP"); err != nil {
			return err
		}
		id = tk.ID
		if _, err := q.Move(ctx, id, queue.Change{To: task.Claimed, Actor: "ann", Reason: "claimed"}); err != nil {
			return err
		}
		_, err := q.Move(ctx, id, queue.Change{To: task.Done, Actor: "ann", Note: "added", Evidence: "ticket 7", Reason: "done"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	q := queue.In(db.ReadSQL())
	got, err := q.Task(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != task.Done || got.Note != "added" || got.Evidence != "ticket 7" || got.By != "ann" || !slices.Equal(got.Steps, []string{"one", "two"}) {
		t.Errorf("task read back as %+v", got)
	}
	trail, err := q.Audit(ctx, "acme", "u1")
	if err != nil {
		t.Fatal(err)
	}
	var moves []string
	for _, e := range trail {
		moves = append(moves, e.Actor+":"+e.From+">"+e.To)
	}
	if want := []string{"scimbridge:>open", "ann:open>claimed", "ann:claimed>done"}; !slices.Equal(moves, want) {
		t.Errorf("audit %v, want %v", moves, want)
	}

	// Forbidden moves change nothing.
	err = in(t, db, func(q queue.Queue) error {
		_, err := q.Move(ctx, id, queue.Change{To: task.Claimed, Actor: "bob"})
		return err
	})
	var me *task.MoveError
	if !errors.As(err, &me) || me.From != task.Done || me.To != task.Claimed {
		t.Errorf("done → claimed: %v", err)
	}
	if _, err := q.Task(ctx, 999); !errors.Is(err, queue.ErrNotFound) {
		t.Errorf("unknown task: %v", err)
	}
	if last, found, err := q.LastClosed(ctx, "acme", "u1"); err != nil || !found || last.ID != id {
		t.Errorf("LastClosed = %+v, %v, %v", last, found, err)
	}
	if pending, err := q.Pending(ctx, "acme", "u1"); err != nil || len(pending) != 0 {
		t.Errorf("Pending = %v, %v", pending, err)
	}
}

func TestAccounts(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	a := account.Account{App: "acme", UserID: "u1", UserName: "u1@x.com", Email: "u1@x.com", State: account.Pending,
		Desired: account.Desired{Exists: true, Active: true, Role: "User"}}
	steps := []account.State{account.Pending, account.Pending, account.Active}
	for _, st := range steps {
		a.State = st
		if err := in(t, db, func(q queue.Queue) error { return q.PutAccount(ctx, &a, "scimbridge", "test") }); err != nil {
			t.Fatal(err)
		}
	}
	q := queue.In(db.ReadSQL())
	got, found, err := q.Account(ctx, "acme", "u1")
	if err != nil || !found || got.State != account.Active || got.Desired != a.Desired {
		t.Errorf("Account = %+v, %v, %v", got, found, err)
	}
	if _, found, err := q.Account(ctx, "other", "u1"); err != nil || found {
		t.Errorf("another app's account: %v, %v", found, err)
	}
	trail, _ := q.Audit(ctx, "acme", "u1")
	if len(trail) != 2 {
		t.Errorf("%d audit entries for 3 puts with 2 states, want 2 (changes only): %+v", len(trail), trail)
	}
}
