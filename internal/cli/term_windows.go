package cli

import (
	"os"

	"golang.org/x/sys/windows"
)

// terminalWidth asks the console on f for its window's width; 0 when it
// cannot say.
func terminalWidth(f *os.File) int {
	var info windows.ConsoleScreenBufferInfo
	if err := windows.GetConsoleScreenBufferInfo(windows.Handle(f.Fd()), &info); err != nil {
		return 0
	}
	return int(info.Window.Right-info.Window.Left) + 1
}
