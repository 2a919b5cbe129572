package transport

import (
	"fmt"
	"time"
)

// tuning holds the settings a reload may change while the transport runs (corosync
// reconfigures them on knet with knet_link_set_ping_timers, knet_link_set_priority and
// knet_handle_pmtud_setfreq). It is replaced whole and read with one atomic load.
type tuning struct {
	pingInterval, pingTimeout, pmtudInterval time.Duration
	pongCount                                int
	priority                                 [MaxLinks]int
}

// tune returns the settings in force.
func (t *Transport) tune() *tuning { return t.tuning.Load() }

func tuningOf(c *Config) *tuning {
	tu := &tuning{pingInterval: c.PingInterval, pingTimeout: c.PingTimeout, pmtudInterval: c.PMTUDInterval, pongCount: c.PongCount}
	for _, l := range c.Links {
		tu.priority[l.Number] = l.Priority
	}
	return tu
}

// Retune applies the heartbeat timers (knet_ping_interval, knet_ping_timeout,
// knet_pong_count, or their token-derived defaults), knet_pmtud_interval, the links'
// knet_link_priority, knet_mtu and the compression settings of s, as a reload does
// (corosync's totemknet_refresh_config and totemknet_reconfigure). A changed knet_mtu
// starts path MTU discovery again on that link. Links cannot be added or removed this
// way, and the other settings (crypto, link mode, addresses) keep their start-up values.
func (t *Transport) Retune(s *Settings) error {
	c := s.Config
	c.timerDefaults()
	tu := &tuning{pingInterval: c.PingInterval, pingTimeout: c.PingTimeout, pmtudInterval: c.PMTUDInterval, pongCount: c.PongCount}
	if tu.pingInterval <= 0 || tu.pingTimeout <= 0 {
		return fmt.Errorf("transport: ping interval and timeout must be positive")
	}
	for _, ifs := range s.Interfaces {
		if ifs.Number < 0 || ifs.Number >= MaxLinks || t.links[ifs.Number] == nil {
			return fmt.Errorf("transport: link %d cannot be added at run time", ifs.Number)
		}
		tu.priority[ifs.Number] = ifs.Priority
	}
	if err := t.recompress(c.Compress); err != nil {
		return err
	}
	for _, ifs := range s.Interfaces {
		if ll := t.links[ifs.Number]; ll.capMTU(ifs.MTUBytes) {
			t.rediscoverMTU(ll)
		}
	}
	old := t.tuning.Swap(tu)
	if old.pingInterval != tu.pingInterval {
		select {
		case t.retick <- struct{}{}:
		default:
		}
	}
	return nil
}

// recompress switches the send side to cfg's compression. Receivers need nothing: every
// packet names its model.
func (t *Transport) recompress(cfg CompressionConfig) error {
	t.txMu.Lock()
	defer t.txMu.Unlock()
	if cfg == t.compCfg {
		return nil
	}
	c, err := newCompressor(cfg)
	if err != nil {
		return err
	}
	c.st = &t.txHandle
	t.comp, t.compCfg = c, cfg
	return nil
}

// rediscoverMTU restarts path MTU discovery to every peer on ll from its new MTU.
func (t *Transport) rediscoverMTU(ll *localLink) {
	mtu := ll.mtuBytes()
	for _, p := range t.peers().order {
		p.mu.Lock()
		if pl := p.links[ll.number]; pl != nil {
			pl.pmtud.reset(mtu)
			pl.pmtu = pl.pmtud.current()
		}
		p.mu.Unlock()
	}
}
