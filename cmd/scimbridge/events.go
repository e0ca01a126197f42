package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/scim/store"
)

const eventsUsage = `Usage:
  scimbridge events tail [-config FILE] -app NAME [-n N] [-follow] [-json]

Change events record what the IdP changed in an app: users created,
updated, deactivated, reactivated and deleted, groups created, renamed,
updated and deleted, members added and removed. They name resources by id
and changed attributes by name; they never hold attribute values. "tail"
works whether or not the server is running.
`

const eventsTailUsage = `Usage: scimbridge events tail [-config FILE] -app NAME [-n N] [-follow] [-json]

Prints the last N change events of an app, oldest first, one per line:

  SEQ  TIME (UTC)  TYPE  RESOURCETYPE/ID  [member=USER ID]  [attributes=A,B]

With -follow it then prints new events as they are recorded, until
interrupted (Ctrl-C, SIGTERM).
`

// followInterval is how often -follow looks for new events: a person
// watching does not notice half a second, and the database barely does.
const followInterval = 500 * time.Millisecond

// followBatch bounds the events -follow reads per query, so that a burst
// (an IdP's first sync) streams out instead of being loaded whole.
const followBatch = 500

func runEvents(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, eventsUsage)
		return usageError{"which events command? tail"}
	}
	switch args[0] {
	case "tail":
		return eventsTail(ctx, e, args[1:])
	case "-h", "-help", "--help", "help":
		fmt.Fprint(e.stdout, eventsUsage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown events command %q (tail)", args[0])}
}

func eventsTail(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "events tail", eventsTailUsage)
	cfgFlag := configFlag(fs)
	app := fs.String("app", "", "the app whose events to show (required)")
	n := fs.Int("n", 10, "how many of the latest events to print first; 0 prints none")
	follow := fs.Bool("follow", false, "keep running and print new events as they are recorded")
	asJSON := fs.Bool("json", false, "print one JSON object per line instead of text")
	if err := parseFlagsOnly(fs, args); err != nil {
		return err
	}
	if *app == "" {
		return usageError{"-app is required"}
	}
	if *n < 0 {
		return usageError{fmt.Sprintf("-n %d: give 0 or more", *n)}
	}
	_, db, err := openStore(ctx, e, *cfgFlag, *app)
	if err != nil {
		return err
	}
	defer db.Close()

	show := printEventText
	if *asJSON {
		show = printEventJSON
	}
	// One more than printed with -n 0, to learn where -follow starts.
	latest, err := db.LatestEvents(ctx, *app, max(*n, 1))
	if err != nil {
		return err
	}
	var after int64
	if len(latest) > 0 {
		after = latest[len(latest)-1].Seq
	}
	if err := printEvents(e.stdout, show, latest[len(latest)-min(*n, len(latest)):]); err != nil {
		return err
	}
	if !*follow {
		return nil
	}
	tick := time.NewTicker(followInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		for {
			evs, err := db.Events(ctx, *app, after, followBatch)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			if err := printEvents(e.stdout, show, evs); err != nil {
				return err
			}
			if len(evs) > 0 {
				after = evs[len(evs)-1].Seq
			}
			if len(evs) < followBatch {
				break
			}
		}
	}
}

func printEvents(w io.Writer, show func(io.Writer, store.Event) error, evs []store.Event) error {
	for _, ev := range evs {
		if err := show(w, ev); err != nil {
			return fmt.Errorf("write event %d: %w", ev.Seq, err)
		}
	}
	return nil
}

// resourceWidth fits "Group/" and a UUID, so that member= and attributes=
// line up.
const resourceWidth = len("Group/") + 36

// printEventText prints fixed-width columns rather than through a
// tabwriter: with -follow, lines go out one at a time.
func printEventText(w io.Writer, ev store.Event) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%-6d  %s  %-20s  ", ev.Seq, ev.Time.UTC().Format(time.RFC3339), ev.Type)
	resource := ev.ResourceType + "/" + ev.ResourceID
	var extra []string
	if ev.MemberID != "" {
		extra = append(extra, "member="+ev.MemberID)
	}
	if len(ev.Attributes) > 0 {
		extra = append(extra, "attributes="+strings.Join(ev.Attributes, ","))
	}
	if len(extra) == 0 {
		b.WriteString(resource)
	} else {
		fmt.Fprintf(&b, "%-*s  %s", resourceWidth, resource, strings.Join(extra, "  "))
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

// eventJSON is an event as -json prints it.
type eventJSON struct {
	Seq          int64     `json:"seq"`
	ID           string    `json:"id"`
	App          string    `json:"app"`
	Type         string    `json:"type"`
	ResourceType string    `json:"resourceType"`
	ResourceID   string    `json:"resourceId"`
	MemberID     string    `json:"memberId,omitempty"`
	Attributes   []string  `json:"attributes,omitempty"`
	Time         time.Time `json:"time"`
}

func printEventJSON(w io.Writer, ev store.Event) error {
	b, err := json.Marshal(eventJSON{
		Seq: ev.Seq, ID: ev.ID, App: ev.App, Type: string(ev.Type),
		ResourceType: ev.ResourceType, ResourceID: ev.ResourceID,
		MemberID: ev.MemberID, Attributes: ev.Attributes, Time: ev.Time.UTC(),
	})
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
