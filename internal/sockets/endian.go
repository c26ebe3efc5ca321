package sockets

import "encoding/binary"

var isBigEndian = binary.NativeEndian.Uint16([]byte{0, 1}) == 1
