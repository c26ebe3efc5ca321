//go:build !linux

package agent

// BootID is "" where porthole does not know how to read a boot id.
func BootID() string { return "" }
