package main

// transportBanner is the notice corosync 3.1.7 logs when it starts the transport named by
// totem.transport (totemnet.c's transport_entries).
func transportBanner(transport string) string {
	switch transport {
	case "udp":
		return "Initializing transport (UDP/IP Multicast)."
	case "udpu":
		return "Initializing transport (UDP/IP Unicast)."
	}
	return "Initializing transport (Kronosnet)."
}
