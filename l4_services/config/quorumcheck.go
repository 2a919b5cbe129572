package config

import "fmt"

// checkQuorum replays what the quorum service does with the configuration when it starts
// (after `corosync -t` would have stopped): the provider must be known, and votequorum
// refuses some combinations of options (votequorum_readconfig at start-up).
func (s *loader) checkQuorum() error {
	provider, ok := s.str("quorum.provider")
	if !ok {
		return nil
	}
	switch provider {
	case "corosync_votequorum":
	case "corosync_ykd":
		return nil
	default:
		return s.fail("quorum.provider", "Quorum provider: %s failed to initialize: Invalid quorum provider", provider)
	}
	u8 := func(key string) uint8 { v, _ := s.u8(key); return v }
	expected, _ := s.u32("quorum.expected_votes")
	_, haveNodelist := s.u32("nodelist.local_node_pos")
	nodes, nodeVotes := uint32(0), uint32(0)
	if haveNodelist {
		last := ^uint32(0)
		for _, key := range s.keys("nodelist.node.") {
			pos, _, n := scanNodeKey(key)
			if n != 2 || pos == last {
				continue
			}
			last = pos
			nodes++
			votes, ok := s.u32(fmt.Sprintf("nodelist.node.%d.quorum_votes", pos))
			if !ok {
				votes = 1
			}
			nodeVotes += votes
		}
	}
	model, _ := s.str("quorum.device.model")
	haveQdevice := model != ""
	qdeviceVotes, qdeviceVotesSet := s.u32("quorum.device.votes")
	// votequorum keeps "not set" as -1, so that value counts as unset.
	qdeviceVotesSet = qdeviceVotesSet && qdeviceVotes != ^uint32(0)
	twoNode := u8("quorum.two_node")
	lms := u8("quorum.last_man_standing")
	downscale := u8("quorum.allow_downscale")
	wfa, wfaSet := s.u8("quorum.wait_for_all")
	atb := u8("quorum.auto_tie_breaker") != 0
	if atb {
		if v, ok := s.str("quorum.auto_tie_breaker_node"); ok {
			atb = validATBNodes(v)
		}
	}
	if !wfaSet {
		wfa = twoNode
	}
	switch {
	case !haveNodelist && expected == 0:
		return s.fail("", "configuration error: nodelist or quorum.expected_votes must be configured!")
	case twoNode != 0 && haveQdevice:
		return s.fail("quorum.two_node", "configuration error: two_node and quorum device cannot be configured at the same time!")
	case atb && nodeVotes%2 == 1 && wfa == 0 && lms != 0:
		return s.fail("quorum.last_man_standing", "configuration error: auto_tie_breaker & last_man_standing not available in odd sized cluster")
	}
	if atb && nodeVotes%2 == 1 && wfa == 0 {
		atb = false // corosync disables it with a warning
	}
	switch {
	case haveQdevice && lms != 0:
		return s.fail("quorum.last_man_standing", "configuration error: quorum.device is not compatible with last_man_standing")
	case haveQdevice && atb:
		return s.fail("quorum.auto_tie_breaker", "configuration error: quorum.device is not compatible with auto_tie_breaker")
	case haveQdevice && downscale != 0:
		return s.fail("quorum.allow_downscale", "configuration error: quorum.device is not compatible with allow_downscale")
	case expected != 0 && haveQdevice && !qdeviceVotesSet:
		return s.fail("quorum.expected_votes", "configuration error: quorum.device.votes must be specified when quorum.expected_votes is set")
	case haveQdevice && !qdeviceVotesSet && haveNodelist && nodes != nodeVotes:
		return s.fail("quorum.device.model", "configuration error: quorum.device.votes must be specified when not all nodes votes 1")
	case haveQdevice && qdeviceVotesSet && qdeviceVotes > 0 && expected != 0 && int32(expected-qdeviceVotes) < 2:
		return s.fail("quorum.device.votes", "configuration error: quorum.device.votes is too high or expected_votes is too low")
	}
	return nil
}

// validATBNodes is whether parse_atb_string keeps auto_tie_breaker on: "lowest",
// "highest" or a list of node ids whose first (atoi) is not zero.
func validATBNodes(v string) bool {
	return v == "lowest" || v == "highest" || atoi(v) != 0
}
