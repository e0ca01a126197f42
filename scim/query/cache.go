package query

import (
	"strings"
	"sync"

	"github.com/scimbridge/scimbridge/scim/catalog"
)

// Filters parses filters like ParseFilter, but remembers the validated
// structure of each filter shape: the filter with its string literals
// emptied. IdPs send the same few shapes with different values
// (userName eq "…", externalId eq "…"), and filter-parser's grammar
// engine costs more than the rest of a lookup, so a shape is parsed once
// and later filters of that shape only have their literals decoded and
// checked.
type Filters struct {
	max    int
	mu     sync.Mutex
	shapes map[string]*shape
}

type shape struct {
	expr  Expr
	slots int
}

// NewFilters returns a parser that keeps up to max shapes.
func NewFilters(max int) *Filters {
	return &Filters{max: max, shapes: map[string]*shape{}}
}

// Parse parses and validates raw for res; see ParseFilter.
func (f *Filters) Parse(res *catalog.Resource, raw string) (Expr, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, nil
	}
	key, literals, ok := shapeOf(raw)
	if !ok || len(raw) > MaxFilterLength {
		return ParseFilter(res, raw)
	}
	key = res.Name + "\x00" + key
	f.mu.Lock()
	sh, found := f.shapes[key]
	f.mu.Unlock()
	if !found {
		expr, slots, err := parse(res, key[len(res.Name)+1:], true)
		if err != nil || slots != len(literals) {
			// Errors are worded from the filter as sent.
			return ParseFilter(res, raw)
		}
		sh = &shape{expr: expr, slots: slots}
		f.mu.Lock()
		if len(f.shapes) >= f.max {
			// Past the bound the traffic is not a few shapes; start over
			// rather than track recency.
			clear(f.shapes)
		}
		f.shapes[key] = sh
		f.mu.Unlock()
	}
	expr, err := fill(sh.expr, literals)
	if err != nil {
		// A literal that does not fit; word the error as ParseFilter does.
		return ParseFilter(res, raw)
	}
	return expr, nil
}

// shapeOf returns raw with the contents of its string literals removed,
// and those contents (escapes undecoded).
func shapeOf(raw string) (string, []string, bool) {
	var (
		b        strings.Builder
		literals []string
	)
	for i := 0; i < len(raw); {
		if raw[i] != '"' {
			b.WriteByte(raw[i])
			i++
			continue
		}
		end, err := skipString(raw, i)
		if err != nil {
			return "", nil, false
		}
		literals = append(literals, raw[i+1:end-1])
		b.WriteString(`""`)
		i = end
	}
	return b.String(), literals, true
}

// fill copies a shape's tree with its slots filled from literals.
func fill(e Expr, literals []string) (Expr, error) {
	switch e := e.(type) {
	case *And:
		l, r, err := fill2(e.Left, e.Right, literals)
		return &And{Left: l, Right: r}, err
	case *Or:
		l, r, err := fill2(e.Left, e.Right, literals)
		return &Or{Left: l, Right: r}, err
	case *Not:
		x, err := fill(e.X, literals)
		return &Not{X: x}, err
	case *Any:
		if e.Filter == nil {
			return e, nil
		}
		x, err := fill(e.Filter, literals)
		return &Any{Attr: e.Attr, Filter: x}, err
	case *Compare:
		if e.slot == 0 {
			return e, nil
		}
		v, err := typedValue(e.Attr, literals[e.slot-1])
		if err != nil {
			return nil, err
		}
		return &Compare{Attr: e.Attr, Op: e.Op, Value: v}, nil
	}
	return e, nil
}

func fill2(l, r Expr, literals []string) (Expr, Expr, error) {
	fl, err := fill(l, literals)
	if err != nil {
		return nil, nil, err
	}
	fr, err := fill(r, literals)
	return fl, fr, err
}
