// Package csvcell keeps the cells scimbridge writes to CSV files from
// running as formulas when a spreadsheet opens them: names, roles and
// notes come from IdPs, app exports and people, not from scimbridge.
package csvcell

import "strings"

// formulaStarts are the first characters that make a spreadsheet read a
// cell as a formula (or, for the control characters, hide one behind
// them).
const formulaStarts = "=+-@\t\r\n"

// Safe returns v, or v as text (behind an apostrophe) when a spreadsheet
// would run it.
func Safe(v string) string {
	if v != "" && strings.ContainsRune(formulaStarts, rune(v[0])) {
		return "'" + v
	}
	return v
}

// Row makes every cell Safe, in place, and returns them.
func Row(cells ...string) []string {
	for i, c := range cells {
		cells[i] = Safe(c)
	}
	return cells
}

// Runs reports whether a spreadsheet would run v as a formula.
func Runs(v string) bool { return Safe(v) != v }
