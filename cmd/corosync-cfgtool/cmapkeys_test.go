package main

import "testing"

// Expectations checked with glibc's sscanf on the C tool's format strings.
func TestIsNodeIDKey(t *testing.T) {
	tests := map[string]bool{
		"nodelist.node.0.nodeid":                       true,
		"nodelist.node.12.nodeid":                      true,
		"nodelist.node.-3.nodeid":                      true,
		"nodelist.node. 5.nodeid":                      true,
		"nodelist.node.99999999999999999999999.nodeid": true,
		"nodelist.node.0.nodeidx":                      false,
		"nodelist.node.5.nodeid ":                      false,
		"nodelist.node..nodeid":                        false,
		"nodelist.node.0x5.nodeid":                     false,
		"nodelist.node.0.name":                         false,
		"nodelist.local_node_pos":                      false,
		"nodelist.node.":                               false,
		"xnodelist.node.0.nodeid":                      false,
	}
	for key, want := range tests {
		if got := isNodeIDKey(key); got != want {
			t.Errorf("isNodeIDKey(%q) = %v, want %v", key, got, want)
		}
	}
}

func TestInterfaceLink(t *testing.T) {
	tests := []struct {
		key  string
		want uint32
		ok   bool
	}{
		{"totem.interface.0.bindnetaddr", 0, true},
		{"totem.interface.1.knet_transport", 1, true},
		{"totem.interface.7", 7, true},
		{"totem.interface. +7x", 7, true},
		{"totem.interface.-1.x", 4294967295, true},
		{"totem.interface.4294967296.knet_transport", 0, true},
		{"totem.interface.99999999999999999999", 4294967295, true},
		{"totem.interface.18446744073709551615", 4294967295, true},
		{"totem.interface.-18446744073709551616", 4294967295, true},
		{"totem.interface.", 0, false},
		{"totem.interface.+", 0, false},
		{"totem.interface.-", 0, false},
		{"totem.interfaces.0", 0, false},
	}
	for _, tt := range tests {
		got, ok := interfaceLink(tt.key)
		if got != tt.want || ok != tt.ok {
			t.Errorf("interfaceLink(%q) = %d, %v; want %d, %v", tt.key, got, ok, tt.want, tt.ok)
		}
	}
	if k := transportKeyOf(3); k != "totem.interface.3.knet_transport" {
		t.Errorf("transportKeyOf(3) = %q", k)
	}
}
