package cli

import "os"

// zeroSignal stands in for signal 0, which Windows lacks; the live tests
// that use it do not run there.
var zeroSignal = os.Interrupt
