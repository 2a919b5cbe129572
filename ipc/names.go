package ipc

import (
	"net"
	"strings"
)

// sunPathBytes is sizeof(sun_path). libqb binds and connects abstract names padded with
// NULs to the full length (address length 110), and abstract names are length-sensitive,
// so ours must be padded the same way to meet.
const sunPathBytes = 108

// abstractAddr returns the padded abstract unix address of name for network ("unix" or
// "unixgram": Go refuses to send to an address of another network). Go turns the leading
// @ into the NUL that marks the abstract namespace.
func abstractAddr(network, name string) *net.UnixAddr {
	pad := sunPathBytes - 1 - len(name)
	if pad < 0 {
		pad = 0
	}
	return &net.UnixAddr{Net: network, Name: "@" + name + strings.Repeat("\x00", pad)}
}
