package config

import (
	"fmt"
	"math"
)

// cInt is C's (int) conversion of a double, which x86 turns into INT_MIN when out of
// range.
func cInt(d float64) int32 {
	if d != d || d >= 1<<31 || d <= -1<<31-1 {
		return math.MinInt32
	}
	return int32(d)
}

// volatileRead replays totem_volatile_config_read: each timer from its key or default,
// stored as runtime.config.<key>.
func (s *loader) volatileRead() {
	tc := &s.tc
	get := func(key string, def uint32, allowZero bool) uint32 {
		v, ok := s.u32(key)
		if !ok || (!allowZero && v == 0) {
			v = def
		}
		s.set("runtime.config."+key, U32(v))
		return v
	}
	tc.retransConst = get("totem.token_retransmits_before_loss_const", 4, false)
	tc.token = get("totem.token", 3000, false)
	tc.tokenWarning = get("totem.token_warning", 75, true)
	if n := len(tc.links[0].members); n > 2 {
		coef := uint32(650)
		if v, ok := s.u32("totem.token_coefficient"); ok {
			coef = v
		}
		tc.token += uint32(n-2) * coef
		s.set("runtime.config.totem.token", U32(tc.token))
	}
	tc.maxNetDelay = get("totem.max_network_delay", 50, false)
	get("totem.window_size", 50, false)
	get("totem.max_messages", 17, false)
	get("totem.miss_count_const", 5, false)
	get("totem.knet_pmtud_interval", 30, false)
	get("totem.knet_mtu", 0, false)
	tc.tokenRetrans = get("totem.token_retransmit",
		uint32(cInt(float64(tc.token)/(float64(tc.retransConst)+0.2))), false)
	tc.hold = get("totem.hold", uint32(cInt(float64(tc.tokenRetrans)*0.8-10)), false)
	tc.join = get("totem.join", 50, false)
	tc.consensus = get("totem.consensus", uint32(cInt(float64(float32(1.2*float64(tc.token))))), false)
	tc.merge = get("totem.merge", 200, false)
	tc.downcheck = get("totem.downcheck", 1000, false)
	get("totem.fail_recv_const", 2500, false)
	get("totem.seqno_unchanged_const", 30, false)
	get("totem.send_join", 0, true)
	get("totem.heartbeat_failures_allowed", 0, true)
	get("totem.knet_compression_threshold", 0, true)
	level, _ := s.i32("totem.knet_compression_level")
	s.set("runtime.config.totem.knet_compression_level", I32(level))
	model, ok := s.str("totem.knet_compression_model")
	if !ok {
		model = "none"
	}
	if len(model) > 128 {
		model = model[:128]
	}
	s.set("runtime.config.totem.knet_compression_model", Str(model))
	boolean := func(key string, def uint32) {
		v := def
		if str, ok := s.str(key); ok {
			switch str {
			case "yes":
				v = 1
			case "no":
				v = 0
			}
		}
		s.set("runtime.config."+key, U32(v))
	}
	boolean("totem.block_unlisted_ips", 1)
	boolean("totem.cancel_token_hold_on_retransmit", 0)
}

// knetPingTimers is calc_knet_ping_timers: ping timeout and interval default to fractions
// of the effective token.
func (s *loader) knetPingTimers() error {
	tc := &s.tc
	for i := range tc.links {
		l := &tc.links[i]
		if !l.configured {
			continue
		}
		if l.pongCount == 0 {
			l.pongCount = knetPongCount
		}
		if l.pingTimeout == 0 {
			l.pingTimeout = int32(tc.token / uint32(l.pongCount))
		}
		s.set(fmt.Sprintf("runtime.config.totem.interface.%d.knet_ping_timeout", i), U32(uint32(l.pingTimeout)))
		if l.pingInterval == 0 {
			div := uint32(l.pongCount * 2)
			if div == 0 {
				// corosync divides by zero here.
				return s.fail(fmt.Sprintf("totem.interface.%d.knet_pong_count", i),
					"knet_pong_count %d is too large", uint32(l.pongCount))
			}
			l.pingInterval = int32(tc.token / div)
		}
		s.set(fmt.Sprintf("runtime.config.totem.interface.%d.knet_ping_interval", i), U32(uint32(l.pingInterval)))
	}
	return nil
}
