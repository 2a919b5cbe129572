// Package wdsvc is corosync 3.1.7's watchdog service (exec/wd.c, service id 7, subsystem
// "WD"): it keeps an optional hardware watchdog alive and checks the resources under
// resources.<type>.<name>.* that a monitor (the mon service for resources.system.*, an
// application for resources.process.*) keeps up to date, carrying out their recovery when
// one fails.
//
// # The watchdog
//
// resources.watchdog_timeout (u32, seconds, 2..120, default 6) is written at start when
// absent or out of range ("Set watchdog_timeout is out of range (2..120)." and "use default
// value 6 seconds."). Changing it applies the new value; a value out of range or not a u32
// is replaced by the one in force. The device is tickled (WDIOC_KEEPALIVE) every half
// timeout. Without a device the timeout "applied" is compared with 0, so every change is
// applied and logged again ("The Watchdog timeout is N seconds", "The tickle timeout is M
// ms" at debug level), as in 3.1.7.
//
// A device is opened only when resources.watchdog_device names one. Checked against the
// real 3.1.7 (Debian's build): without the key it logs "Watchdog not enabled by
// configuration", with "" or "off" "Watchdog disabled by configuration", with a path it
// cannot write "No watchdog <path>, try modprobe <a watchdog>", and with one it opens
// "Watchdog <path> is now being tickled by corosync." followed by the driver's identity at
// debug level. The opened device gets the timeout (WDIOC_SETTIMEOUT if the driver has
// WDIOF_SETTIMEOUT, then WDIOC_GETTIMEOUT, believed even when it differs: "Could not change
// the Watchdog timeout from A to B seconds") and WDIOC_SETOPTIONS(WDIOS_ENABLECARD). Close
// writes the magic 'V' ("magically closing the watchdog."). Devices is the interface to
// the device files, LinuxDevices the real one: tests use fakes only, since opening a real
// watchdog arms a machine reset.
//
// # Resources
//
// At start every key resources.<type>.<name>.state... (sscanf's "resources.%[^.].%[^.].%[^.]"
// with "state" as third part) makes a resource; later additions of such keys under
// resources.system. and resources.process. make more. A resource writes poll_period (u64
// 6000 ms) when it has no u64 one, tracks its prefix, and needs string recovery and state
// keys ("resource <name> missing a recovery key." otherwise: it stays stopped until a key
// of it changes). Its first check comes after max(2 * poll_period, 6 s), then one every
// poll_period. A check fails when last_updated (u64) is missing, state is missing,
// "disabled" or "failed", or last_updated (unless 0, "not yet") is older than 1.5 poll
// periods ("last_updated N ms too late, period:P." at error level). A failure logs
// "<recovery> resource "<name>" failed!" at crit level and then:
//
//   - watchdog or quit: the tickling stops; the next tickle logs "NOT tickling the
//     watchdog!" at alert level, and an open watchdog resets the machine (corosync does
//     not quit on "quit");
//   - reboot or shutdown: Host.Reboot or Host.PowerOff (reboot(2)); SystemHost is the real
//     one, tests use fakes;
//   - anything else: nothing but the state.
//
// Changes of the resource's keys other than current and last_updated re-read recovery and
// state (state "stopped" stops the checks, any other value restarts them); deleting the
// state key forgets the resource ("resource "<name>" deleted from cmap!"). The state
// machine is mon's (package reskit), kept in memory: wd writes no state key.
//
// # 3.1.7's quirks kept
//
//   - The resources mon publishes have no recovery key, so a default configuration logs
//     "missing a recovery key." for both and "no resources configured.".
//   - On a change, the new poll period is looked up under the resource's prefix itself
//     (a key such as "resources.system.memory_used."), so the check period stays the one
//     read at creation.
//   - A resource whose recovery or state key disappears or changes type stops, but a check
//     already armed stays armed.
//
// # Differences from corosync 3.1.7
//
//   - A check that fails a stopped resource (possible after the previous quirk) makes
//     corosync abort on an assertion; here it is logged at debug level and the resource
//     stays stopped.
//   - Failed ioctls count as zero values (corosync reads uninitialised memory), and
//     WDIOS_ENABLECARD is passed by pointer as the kernel expects (corosync passes the
//     value as the pointer, which fails with EFAULT).
//   - Notifications caused by the service's own changes are handled after the work in
//     progress instead of inside it (see package reskit).
package wdsvc
