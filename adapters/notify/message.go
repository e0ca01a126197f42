package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/adapters/profile"
	"github.com/scimbridge/scimbridge/adapters/queue"
)

// Envelope is the body of a FormatJSON request.
type Envelope struct {
	// ID is the notification's id, as in DeliveryHeader.
	ID    int64     `json:"id"`
	Event string    `json:"event"`
	App   string    `json:"app"`
	Time  time.Time `json:"time"`
	// Task is set for task events: a queue.TaskNotice.
	Task json.RawMessage `json:"task,omitempty"`
	// Drift is set for drift.found: a queue.DriftReport.
	Drift json.RawMessage `json:"drift,omitempty"`
	// Seats is set for seats.over: a queue.SeatNotice.
	Seats json.RawMessage `json:"seats,omitempty"`
}

// payload is a notification's stored payload.
type payload struct {
	Task  *queue.TaskNotice  `json:"task"`
	Drift *queue.DriftReport `json:"drift"`
	Seats *queue.SeatNotice  `json:"seats"`
}

// Body returns the body of the request that delivers n in format.
func Body(format string, n queue.Notification) ([]byte, error) {
	switch format {
	case FormatJSON, "":
		var raw struct {
			Task  json.RawMessage `json:"task"`
			Drift json.RawMessage `json:"drift"`
			Seats json.RawMessage `json:"seats"`
		}
		if err := json.Unmarshal(n.Payload, &raw); err != nil {
			return nil, fmt.Errorf("notification %d: payload: %w", n.ID, err)
		}
		return marshal(Envelope{ID: n.ID, Event: n.Kind, App: n.App, Time: n.Created.UTC(), Task: raw.Task, Drift: raw.Drift, Seats: raw.Seats})
	case FormatSlack:
		text, err := Text(n)
		if err != nil {
			return nil, err
		}
		return marshal(struct {
			Text string `json:"text"`
		}{slackEscape(text)})
	}
	return nil, fmt.Errorf("unknown webhook format %q", format)
}

// marshal is json.Marshal without the escaping of <, > and & meant for
// HTML, which would garble Slack's own escapes.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// Text is one sentence that tells a person what notification n is about.
func Text(n queue.Notification) (string, error) {
	var p payload
	if err := json.Unmarshal(n.Payload, &p); err != nil {
		return "", fmt.Errorf("notification %d: payload: %w", n.ID, err)
	}
	if n.Kind == queue.DriftFound {
		if p.Drift == nil {
			return "", fmt.Errorf("notification %d: drift.found without a drift report", n.ID)
		}
		return driftText(n.App, *p.Drift), nil
	}
	if n.Kind == queue.SeatsOver {
		if p.Seats == nil {
			return "", fmt.Errorf("notification %d: seats.over without seats", n.ID)
		}
		s := *p.Seats
		return fmt.Sprintf("%s in %s is over its seats: %d in use of %d bought; the app does not stop it, so free seats or buy more.",
			s.Module, n.App, s.Used, s.Limit), nil
	}
	if p.Task == nil {
		return "", fmt.Errorf("notification %d: %s without a task", n.ID, n.Kind)
	}
	t := *p.Task
	switch n.Kind {
	case queue.TaskOpened:
		head := fmt.Sprintf("New task %d in %s", t.ID, n.App)
		if t.Status == "awaiting_approval" {
			head += " awaits approval"
		}
		return head + ": " + action(t) + due(t, "due") + assignee(t) + ".", nil
	case queue.TaskOverdue:
		return fmt.Sprintf("Task %d in %s is overdue: %s%s%s.", t.ID, n.App, action(t), due(t, "it was due"), assignee(t)), nil
	case queue.ItemsReassigned:
		to := t.Params["target_email"]
		if to == "" {
			to = "the user an admin chose"
		}
		return fmt.Sprintf("The items %s owned in %s were reassigned to %s (task %d).", t.UserName, n.App, to, t.ID), nil
	case queue.TaskFailed:
		s := fmt.Sprintf("Task %d in %s failed: %s", t.ID, n.App, action(t))
		if t.Note != "" {
			s += fmt.Sprintf("; %s said: %s", t.By, t.Note)
		}
		return s + ".", nil
	}
	return fmt.Sprintf("%s in %s: task %d, %s.", n.Kind, n.App, t.ID, action(t)), nil
}

// action says what a task asks for, in words.
func action(t queue.TaskNotice) string {
	switch profile.ActionKind(t.Kind) {
	case profile.Create, profile.Reactivate:
		return t.Kind + " " + t.UserName + paren(t.Role)
	case profile.SetRole:
		s := "set the role of " + t.UserName + " to " + t.Role
		if t.PreviousRole != "" {
			s += " (was " + t.PreviousRole + ")"
		}
		return s
	}
	return strings.ReplaceAll(t.Kind, "_", " ") + " " + t.UserName
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

func due(t queue.TaskNotice, word string) string {
	if t.Due == nil {
		return ""
	}
	return ", " + word + " " + t.Due.UTC().Format("2006-01-02 15:04 MST")
}

func assignee(t queue.TaskNotice) string {
	if t.Assignee == "" {
		return ""
	}
	return ", assigned to " + t.Assignee
}

// textItems bounds the differences a message lists.
const textItems = 5

func driftText(app string, r queue.DriftReport) string {
	var b strings.Builder
	if r.Import != "" {
		fmt.Fprintf(&b, "The import %s of %s", r.Import, app)
	} else {
		fmt.Fprintf(&b, "An import of %s", app)
	}
	noun := "differences"
	if r.Total == 1 {
		noun = "difference"
	}
	fmt.Fprintf(&b, " found %d %s from what scimbridge expects:", r.Total, noun)
	// One line per difference, which may hold a sentence of its own.
	for i, it := range r.Items {
		if i == textItems {
			break
		}
		b.WriteString("\n- " + it.UserName + ": " + it.What)
		switch {
		case it.Expected != "" && it.Found != "":
			fmt.Fprintf(&b, " (expected %s, found %s)", it.Expected, it.Found)
		case it.Expected != "":
			fmt.Fprintf(&b, " (expected %s)", it.Expected)
		case it.Found != "":
			fmt.Fprintf(&b, " (found %s)", it.Found)
		}
	}
	if more := r.Total - min(len(r.Items), textItems); more > 0 {
		fmt.Fprintf(&b, "\n- and %d more", more)
	}
	return b.String()
}

// slackEscape escapes the three characters Slack's text reads as markup.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
