package console

import (
	"context"
	"time"
)

// chartDays is how far back the overview's chart looks.
const chartDays = 30

// chart is the overview's bar chart of tasks opened and finished per
// day, drawn on the server as SVG: no script, and nothing for the CSP to
// allow.
type chart struct {
	Width, Height, Base, Bar int
	Opened, Finished         int
	Days                     []chartDay
}

type chartDay struct {
	Day                               string
	Opened, Finished                  int
	X, X2, OpenY, OpenH, DoneY, DoneH int
}

func (s *server) chart(ctx context.Context, app string) (*chart, error) {
	today := s.cfg.Now().UTC().Truncate(24 * time.Hour)
	since := today.AddDate(0, 0, -(chartDays - 1))
	counts, err := s.queue().TaskDays(ctx, app, since)
	if err != nil {
		return nil, err
	}
	const bar, gap, height = 5, 3, 60
	c := &chart{Width: chartDays * (2*bar + gap), Height: height + 2, Base: height, Bar: bar}
	peak := 1
	for _, d := range counts {
		peak = max(peak, d.Opened, d.Finished)
	}
	scale := func(n int) int {
		if n == 0 {
			return 0
		}
		return max(1, n*height/peak)
	}
	for i := range chartDays {
		day := since.AddDate(0, 0, i).Format(time.DateOnly)
		n := counts[day]
		x := i * (2*bar + gap)
		d := chartDay{Day: day, Opened: n.Opened, Finished: n.Finished, X: x, X2: x + bar,
			OpenH: scale(n.Opened), DoneH: scale(n.Finished)}
		d.OpenY, d.DoneY = height-d.OpenH, height-d.DoneH
		c.Opened += n.Opened
		c.Finished += n.Finished
		c.Days = append(c.Days, d)
	}
	return c, nil
}
