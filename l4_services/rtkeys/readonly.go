package rtkeys

import "github.com/corosync-go/corosync/l4_services/icmap"

// readOnlyPrefixes and readOnlyKeys are the keys IPC clients may not change, corosync
// 3.1.7's set_icmap_ro_keys_flag: statistics, the effective configuration, and the settings
// that cannot change at run time. The daemon itself still writes them.
var (
	readOnlyPrefixes = []string{
		"internal_configuration.", "runtime.services.", "runtime.config.", "runtime.totem.",
		"uidgid.config.", "system.", "nodelist.",
	}
	readOnlyKeys = []string{
		"totem.crypto_cipher", "totem.crypto_hash", "totem.crypto_model", "totem.keyfile",
		"totem.key", "totem.secauth", "totem.ip_version", "totem.rrp_mode", "totem.transport",
		"totem.cluster_name", "totem.netmtu", "totem.threads", "totem.version", "totem.nodeid",
		"totem.clear_node_high_bit", "config.reload_in_progress",
		"config.totemconfig_reload_in_progress",
	}
)

// ProtectReadOnly marks corosync's read-only keys in m: a client's set or delete of one
// gets CS_ERR_ACCESS.
func ProtectReadOnly(m *icmap.Map) {
	for _, p := range readOnlyPrefixes {
		m.SetReadOnly(p, true, true)
	}
	for _, k := range readOnlyKeys {
		m.SetReadOnly(k, false, true)
	}
}
