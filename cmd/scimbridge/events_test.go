package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/scim/store"
)

const (
	userA  = "2819c223-7f76-453a-919d-413861904646"
	groupA = "e9e30dba-f08f-4109-8486-d5c6a331660a"
	userB  = "0b7a4a0e-3c1f-4f7e-9d55-6a3f1e2c8b90"
)

// appendEvents writes events to the database of cfg, opened the way the
// commands open it.
func appendEvents(t *testing.T, cfg string, evs ...store.Event) {
	t.Helper()
	e := &env{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }}
	_, db, err := openStore(t.Context(), e, cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(t.Context(), func(tx store.Tx) error { return tx.AppendEvents(t.Context(), evs) }); err != nil {
		t.Fatal(err)
	}
}

// seedEvents makes a database with events of acme (seq 1, 3, 4, 5) and
// beta (seq 2).
func seedEvents(t *testing.T) string {
	t.Helper()
	cfg := writeConfig(t, t.TempDir(), "database: sb.db\napps:\n  - name: acme\n  - name: beta\n")
	at := func(sec int) time.Time { return time.Date(2026, 3, 4, 5, 6, sec, 0, time.UTC) }
	appendEvents(t, cfg,
		store.Event{ID: "evt_1", App: "acme", Type: store.UserCreated, ResourceType: "User", ResourceID: userA, Time: at(7)},
		store.Event{ID: "evt_2", App: "beta", Type: store.UserCreated, ResourceType: "User", ResourceID: userB, Time: at(8)},
		store.Event{ID: "evt_3", App: "acme", Type: store.UserUpdated, ResourceType: "User", ResourceID: userA, Attributes: []string{"name", "emails"}, Time: at(9)},
		store.Event{ID: "evt_4", App: "acme", Type: store.GroupMemberAdded, ResourceType: "Group", ResourceID: groupA, MemberID: userA, Time: at(10)},
		// A time in another zone is printed in UTC.
		store.Event{ID: "evt_5", App: "acme", Type: store.UserDeactivated, ResourceType: "User", ResourceID: userA, Time: at(11).In(time.FixedZone("CET", 3600))},
	)
	return cfg
}

var acmeLines = []string{
	"1       2026-03-04T05:06:07Z  user.created          User/" + userA,
	"3       2026-03-04T05:06:09Z  user.updated          User/" + userA + "   attributes=name,emails",
	"4       2026-03-04T05:06:10Z  group.member_added    Group/" + groupA + "  member=" + userA,
	"5       2026-03-04T05:06:11Z  user.deactivated      User/" + userA,
}

func lines(ls ...string) string {
	if len(ls) == 0 {
		return ""
	}
	return strings.Join(ls, "\n") + "\n"
}

func TestEventsTail(t *testing.T) {
	cfg := seedEvents(t)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"default", []string{"-app", "acme"}, lines(acmeLines...)},
		{"last two", []string{"-app", "acme", "-n", "2"}, lines(acmeLines[2:]...)},
		{"more than there are", []string{"-app", "acme", "-n", "100"}, lines(acmeLines...)},
		{"none", []string{"-app", "acme", "-n", "0"}, ""},
		{"another app", []string{"-app", "beta"}, lines("2       2026-03-04T05:06:08Z  user.created          User/" + userB)},
		{"flags after the command", []string{"-n", "1", "-app", "acme"}, lines(acmeLines[3])},
		{"json", []string{"-app", "acme", "-n", "2", "-json"}, lines(
			`{"seq":4,"id":"evt_4","app":"acme","type":"group.member_added","resourceType":"Group","resourceId":"`+groupA+`","memberId":"`+userA+`","time":"2026-03-04T05:06:10Z"}`,
			`{"seq":5,"id":"evt_5","app":"acme","type":"user.deactivated","resourceType":"User","resourceId":"`+userA+`","time":"2026-03-04T05:06:11Z"}`,
		)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"events", "tail", "-config", cfg}, c.args...)
			code, stdout, stderr := runCLI(t, nil, args...)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			if stdout != c.want {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout, c.want)
			}
		})
	}
}

func TestEventsTailJSONParses(t *testing.T) {
	cfg := seedEvents(t)
	code, stdout, stderr := runCLI(t, nil, "events", "tail", "-config", cfg, "-app", "acme", "-json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got []eventJSON
	for _, l := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		var ev eventJSON
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		got = append(got, ev)
	}
	if len(got) != 4 || got[1].Seq != 3 || strings.Join(got[1].Attributes, ",") != "name,emails" ||
		got[2].MemberID != userA || got[3].Time.Location() != time.UTC {
		t.Errorf("parsed %+v", got)
	}
}

func TestEventsUsageErrors(t *testing.T) {
	cfg := seedEvents(t)
	cases := []struct {
		args []string // CFG stands for the configuration file
		want []string
	}{
		{[]string{"events"}, []string{"which events command? tail"}},
		{[]string{"events", "head"}, []string{`unknown events command "head"`}},
		{[]string{"events", "tail", "-config", "CFG"}, []string{"-app is required"}},
		{[]string{"events", "tail", "-config", "CFG", "-app", "gamma"}, []string{`no app "gamma" in ` + cfg, "(apps: acme, beta)"}},
		{[]string{"events", "tail", "-config", "CFG", "-app", "acme", "-n", "-1"}, []string{"-n -1: give 0 or more"}},
		{[]string{"events", "tail", "-config", "CFG", "-app", "acme", "-n", "ten"}, []string{`invalid value "ten" for flag -n`}},
		{[]string{"events", "tail", "-config", "CFG", "-app", "acme", "extra"}, []string{`unexpected argument "extra"`}},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			args := slices.Clone(c.args)
			if i := slices.Index(args, "CFG"); i >= 0 {
				args[i] = cfg
			}
			code, stdout, stderr := runCLI(t, nil, args...)
			// A flag the flag package cannot parse also prints the usage.
			if code != 2 || strings.Contains(stdout, "2026-") {
				t.Errorf("exit %d, stdout %q; want exit 2 and no events", code, stdout)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not contain %q", stderr, w)
				}
			}
		})
	}
}

func TestEventsHelp(t *testing.T) {
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"events", "-help"}, []string{"events tail"}},
		{[]string{"help", "events"}, []string{"events tail"}},
		{[]string{"events", "tail", "-help"}, []string{"-app", "-n", "-follow", "-json", "-config", "(default 10)"}},
		{[]string{"help"}, []string{"events "}},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, stdout, stderr := runCLI(t, nil, c.args...)
			if code != 0 || stderr != "" || strings.Count(stdout, "Usage") != 1 {
				t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("help does not mention %q:\n%s", w, stdout)
				}
			}
		})
	}
}

func TestEventsTailFollow(t *testing.T) {
	cases := []struct {
		name string
		new  int // acme events appended after the start, each after a beta one
	}{
		{"one event", 1},
		{"a burst larger than a batch", 2*followBatch + 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := seedEvents(t)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var stdout, stderr lockedBuffer
			e := &env{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }}
			done := make(chan int, 1)
			go func() {
				done <- run(ctx, e, []string{"events", "tail", "-config", cfg, "-app", "acme", "-n", "1", "-follow"})
			}()
			// Once the latest event is out, the command has read the outbox
			// and waits for new events.
			want := []string{acmeLines[3]}
			waitFor(t, &stdout, lines(want...))

			var evs []store.Event
			at := time.Date(2026, 3, 4, 5, 7, 0, 0, time.UTC)
			for i := range c.new {
				seq := 6 + 2*i // seq 5 is the last seeded one
				evs = append(evs,
					store.Event{App: "beta", Type: store.UserDeleted, ResourceType: "User", ResourceID: userB, Time: at},
					store.Event{App: "acme", Type: store.GroupMemberRemoved, ResourceType: "Group", ResourceID: groupA, MemberID: userA, Time: at})
				want = append(want, fmt.Sprintf("%-6d  2026-03-04T05:07:00Z  group.member_removed  Group/%s  member=%s", seq+1, groupA, userA))
			}
			appendEvents(t, cfg, evs...)
			waitFor(t, &stdout, lines(want...))

			cancel()
			select {
			case code := <-done:
				if code != 0 || stderr.String() != "" {
					t.Errorf("exit %d on cancel, stderr %q", code, stderr.String())
				}
			case <-time.After(5 * time.Second):
				t.Fatal("-follow did not stop when its context was cancelled")
			}
			if got := stdout.String(); got != lines(want...) {
				t.Errorf("output changed after cancel:\n%s", got)
			}
		})
	}
}

// waitFor waits until buf holds exactly want.
func waitFor(t *testing.T, buf *lockedBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for buf.String() != want {
		if time.Now().After(deadline) {
			t.Fatalf("output after 5s:\n%s\nwant:\n%s", tailOf(buf.String()), tailOf(want))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// tailOf shortens long output in failure messages.
func tailOf(s string) string {
	if len(s) > 2000 {
		return "…" + s[len(s)-2000:]
	}
	return s
}
