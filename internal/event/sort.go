package event

import (
	"bytes"
	"slices"
)

// sortNames sorts names in place without allocating.
func sortNames(names [][]byte) {
	slices.SortFunc(names, bytes.Compare)
}
