package csvcell

import (
	"slices"
	"testing"
)

func TestRow(t *testing.T) {
	got := Row("=SUM(A1)", "+1", "-1", "@x", "\tx", "\rx", "\nx", "plain", "", "a=b", "'=x")
	want := []string{"'=SUM(A1)", "'+1", "'-1", "'@x", "'\tx", "'\rx", "'\nx", "plain", "", "a=b", "'=x"}
	if !slices.Equal(got, want) {
		t.Errorf("Row = %q, want %q", got, want)
	}
	for _, v := range got {
		if Runs(v) {
			t.Errorf("%q still runs", v)
		}
	}
}
