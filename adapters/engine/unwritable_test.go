package engine_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/adapters/engine"
)

type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestRunWaitsOutUnwritableDatabase: while the database refuses writes,
// the dispatcher polls on but says so once, not at every poll; once
// writes work again it says that too and catches up.
func TestRunWaitsOutUnwritableDatabase(t *testing.T) {
	w := newWorld(t, peopleAI(t))
	w.scim("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ann@example.com","active":true}`, 201)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	if err := w.db.Pragma(ctx, "PRAGMA query_only = ON"); err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	eng := engine.New(w.db, w.apps, slog.New(slog.NewTextHandler(logs, nil)))
	done := make(chan struct{})
	go func() { defer close(done); eng.Run(ctx, 5*time.Millisecond) }()

	time.Sleep(300 * time.Millisecond) // some 60 polls
	if n := strings.Count(logs.String(), "dispatching change events waits: the database cannot be written"); n != 1 {
		t.Errorf("%d lines say the database cannot be written, want 1:\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), "failed; retrying") {
		t.Errorf("an unwritable database was logged as a failure at each poll:\n%s", logs.String())
	}
	if err := w.db.Pragma(ctx, "PRAGMA query_only = OFF"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := w.db.Cursor(ctx, engine.Consumer)
		if err == nil && n > 0 && strings.Contains(logs.String(), "the database can be written again") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dispatcher did not catch up (cursor %d, %v):\n%s", n, err, logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
}
