package ipc

import "strconv"

// UIDGIDRule is corosync's authorisation rule for non-root clients, as Config.Authorize
// wants it. A client is allowed when one of the cmap keys uidgid.uid.<euid>,
// uidgid.config.uid.<euid>, uidgid.gid.<egid> or uidgid.config.gid.<egid> holds the
// uint8 1 (corosync.conf's uidgid sections and uidgid.d files become the uidgid.config.*
// keys; an administrator may set the others at run time with corosync-cmapctl). Like
// corosync 3.1.7, only the primary group is checked, not supplementary ones. lookup
// returns a key's uint8 value and whether it exists with that type; it is called on the
// accepting goroutine, so it must be safe for concurrent use.
func UIDGIDRule(lookup func(key string) (uint8, bool)) func(Creds) bool {
	return func(c Creds) bool {
		uid := strconv.FormatUint(uint64(c.UID), 10)
		gid := strconv.FormatUint(uint64(c.GID), 10)
		for _, key := range [...]string{"uidgid.uid." + uid, "uidgid.config.uid." + uid, "uidgid.gid." + gid, "uidgid.config.gid." + gid} {
			if v, ok := lookup(key); ok && v == 1 {
				return true
			}
		}
		return false
	}
}
