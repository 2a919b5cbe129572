package totem

import "time"

// tokenVisitsMax is how many token visits the timing record keeps (corosync's
// TOTEM_TOKEN_STATS_MAX).
const tokenVisitsMax = 100

// tokenVisit is one token visit: when the token arrived, when this node passed it on (0 if
// it has not yet, or dropped it) and its send backlog at the visit, in milliseconds of the
// node's clock as corosync records them.
type tokenVisit struct {
	rx, tx  int64
	backlog uint32
}

// tokenVisits is a ring of the latest visits, kept as corosync's token[] array with its
// earliest and latest indexes, so that averages come out as corosync's do.
type tokenVisits struct {
	v                [tokenVisitsMax]tokenVisit
	earliest, latest int
}

func ms(d time.Duration) int64 { return int64(d / time.Millisecond) }

func (r *tokenVisits) received(now time.Duration) {
	r.latest = (r.latest + 1) % tokenVisitsMax
	if r.earliest == r.latest {
		// Full: the oldest entry is dropped.
		r.earliest = (r.earliest + 1) % tokenVisitsMax
		r.v[r.earliest] = tokenVisit{}
	}
	r.v[r.latest] = tokenVisit{rx: ms(now)}
}

func (r *tokenVisits) sent(now time.Duration) { r.v[r.latest].tx = ms(now) }

func (r *tokenVisits) backlog(b int) { r.v[r.latest].backlog = uint32(b) }

// TokenTiming summarises the recent token visits under corosync's stats.srp names.
type TokenTiming struct {
	// MeanRotation is the mean time between token arrivals (mtt_rx_token).
	MeanRotation time.Duration
	// MeanHold is the mean time from a token's arrival to its forwarding
	// (avg_token_workload).
	MeanHold time.Duration
	// MeanBacklog is the mean send backlog at a visit (avg_backlog_calc).
	MeanBacklog uint32
	// SinceLastToken is the time since the token last arrived, or since the node started
	// if it never has (time_since_token_last_received).
	SinceLastToken time.Duration
}

// TokenTiming returns the averages over the last visits, computed as corosync 3.1.7's stats
// updater does (whole milliseconds; visits where the token was dropped and no time passed
// are skipped), with now on the driver's clock.
func (n *Node) TokenTiming(now time.Duration) TokenTiming {
	r := &n.visits
	var rot, hold, backlog int64
	count := int64(0)
	for t := r.latest; ; {
		prev := (t + tokenVisitsMax - 1) % tokenVisitsMax
		if prev == r.earliest {
			break
		}
		cur, p := r.v[t], r.v[prev]
		if cur.tx != 0 || cur.rx-p.rx > 0 {
			rot += cur.rx - p.rx
			hold += max(0, cur.tx-cur.rx)
			backlog += int64(cur.backlog)
			count++
		}
		t = prev
	}
	var tt TokenTiming
	if count > 0 {
		tt.MeanRotation = time.Duration(rot/count) * time.Millisecond
		tt.MeanHold = time.Duration(hold/count) * time.Millisecond
		tt.MeanBacklog = uint32(backlog / count)
	}
	tt.SinceLastToken = time.Duration(max(0, ms(now)-r.v[r.latest].rx)) * time.Millisecond
	return tt
}
