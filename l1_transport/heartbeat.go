package transport

import (
	"context"
	"encoding/binary"
	"time"

	link "github.com/corosync-go/corosync/l0_link"
)

// heartbeatLoop pings every peer on every link each PingInterval, declares links down
// after PingTimeout without a pong, and drives path-MTU probes.
func (t *Transport) heartbeatLoop(ctx context.Context) {
	defer t.wg.Done()
	tick := time.NewTicker(t.tune().pingInterval)
	defer tick.Stop()
	pad := make([]byte, link.MaxDatagramBytes)
	for {
		t.heartbeat(pad)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-t.retick:
			tick.Reset(t.tune().pingInterval)
		}
	}
}

func (t *Transport) heartbeat(pad []byte) {
	now := t.since()
	tu := t.tune()
	for _, p := range t.peers().order {
		for _, pl := range p.links {
			if pl == nil {
				continue
			}
			p.mu.Lock()
			wentDown := false
			if pl.up && now-pl.lastPong > tu.pingTimeout {
				pl.up, pl.pongsInRow = false, 0
				pl.downCount++
				wentDown = true
			}
			probe := 0
			if pl.up {
				probe = pl.pmtud.next(now, tu.pingTimeout, tu.pmtudInterval)
				pl.pmtu = pl.pmtud.current()
			}
			p.mu.Unlock()
			if wentDown {
				t.log.Warn("link down", "node", p.id, "link", pl.number, "addr", pl.addr, "after", tu.pingTimeout)
			}
			// The ping body is the clock reading and the probe size (0 for a plain
			// heartbeat). A probe is an extra ping, padded so that the whole packet is the
			// probed size: if it is too big for the path it is lost, and the plain ping
			// must still keep the link up.
			body := pad[:pingBodyBytes+4]
			binary.BigEndian.PutUint64(body, uint64(now))
			binary.BigEndian.PutUint32(body[8:], 0)
			t.sendControl(p, pl, typePing, body, 0, kindPing)
			if probe > 0 {
				binary.BigEndian.PutUint32(body[8:], uint32(probe))
				t.sendControl(p, pl, typePing, pad[:len(body)], probe, kindPMTU)
			}
		}
	}
}

// sealOverhead is the tag the send side adds now. Called with txMu held: a crypto change
// may switch the sealer.
func (t *Transport) sealOverhead() int {
	if t.txSealer == nil {
		return 0
	}
	return t.txSealer.overhead()
}

// pong records a heartbeat answer and reports whether the link just came up. Called with
// p.mu held.
func (t *Transport) pong(p *peer, pl *peerLink, now, rtt time.Duration, probe int) bool {
	pl.lastPong = now
	if rtt >= 0 && rtt < time.Minute {
		if pl.rttSamples == 0 || rtt < pl.rttMin {
			pl.rttMin = rtt
		}
		pl.rttMax = max(pl.rttMax, rtt)
		pl.rttSum += rtt
		pl.rttSamples++
	}
	if probe > 0 {
		pl.pmtud.passed(probe)
		pl.pmtu = pl.pmtud.current()
	}
	if pl.up {
		return false
	}
	pl.pongsInRow++
	if pl.pongsInRow < t.tune().pongCount {
		return false
	}
	pl.up = true
	pl.upCount++
	pl.pmtud.reset(t.links[pl.number].mtuBytes())
	pl.pmtu = pl.pmtud.current()
	return true
}
