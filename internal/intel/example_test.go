package intel_test

import (
	"fmt"

	"github.com/porthole/porthole/internal/intel"
)

func ExampleLookup() {
	matches, err := intel.Lookup(2556)
	if err != nil {
		panic(err)
	}
	m := matches[0]
	fmt.Println(m.Proto, m.Entry.ID, m.Entry.Category, m.Entry.Confidence, m.Entry.Years)
	fmt.Println(m.Entry.Aliases[0])
	// Output:
	// tcp bagle-backdoor-2556 threat high 2004
	// W32.Beagle.S@mm (Symantec)
}
