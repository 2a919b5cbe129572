package cfgsvc

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cfg"
	"github.com/corosync-go/corosync/ipc/cmap"
	evs "github.com/corosync-go/corosync/l3_evs"
	"github.com/corosync-go/corosync/l4_services/logsys"
)

func (s *Service) trackStart(ci *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ci.tracking {
		return
	}
	ci.tracking = true
	s.trackers[ci] = true
	if s.shutdown != nil {
		// A shutdown is being decided: ask the newcomer too.
		ci.reply = replyUnknown
		s.expected++
		ci.c.Event(cfg.TestShutdown{Flags: s.flags}.Encode())
	}
}

// tryShutdown is corosync's message_handler_req_lib_cfg_tryshutdown: immediate goes at
// once; otherwise the tracking clients are asked and the answer waits for their replies or
// the timeout.
func (s *Service) tryShutdown(ci *conn, flags cfg.ShutdownFlags) {
	s.mu.Lock()
	defer s.mu.Unlock()
	answer := func(cs ipc.CS) { ci.c.Respond(cfg.EncodeStatusResponse(cfg.ResTryShutdown, cs)) }
	if flags == cfg.ShutdownImmediate {
		s.sendShutdown()
		answer(ipc.CSOk)
		return
	}
	if s.shutdown != nil {
		answer(ipc.CSErrExist)
		return
	}
	s.shutdown, s.flags, s.yes, s.no, s.expected = ci, flags, 0, 0, 0
	for t := range s.trackers {
		if t != ci {
			t.reply = replyUnknown
			s.expected++
		}
	}
	if s.expected == 0 {
		s.shutdown = nil
		answer(ipc.CSOk)
		s.sendShutdown()
		return
	}
	timeout := DefaultShutdownTimeout
	if v, err := s.cfg.Map.Get("cfg.shutdown_timeout"); err == nil && v.Type() == cmap.TypeUint32 {
		timeout = time.Duration(v.Uint32()) * time.Millisecond
	}
	pending := ci
	s.timer = time.AfterFunc(timeout, func() { s.shutdownTimedOut(pending) })
	ev := cfg.TestShutdown{Flags: flags}.Encode()
	for t := range s.trackers {
		if t != ci {
			t.c.Event(ev)
		}
	}
}

func (s *Service) replyToShutdown(ci *conn, yes bool) ipc.CS {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutdown == nil {
		return ipc.CSErrAccess
	}
	if yes {
		s.yes++
		ci.reply = replyYes
	} else {
		s.no++
		ci.reply = replyNo
	}
	s.checkShutdown()
	return ipc.CSOk
}

// checkShutdown decides once every tracker has answered. Called with mu held.
func (s *Service) checkShutdown() {
	if s.shutdown == nil || s.yes+s.no < s.expected {
		return
	}
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	asker := s.shutdown
	s.shutdown = nil
	if s.yes >= s.expected || s.flags == cfg.ShutdownRegardless {
		asker.c.Respond(cfg.EncodeStatusResponse(cfg.ResTryShutdown, ipc.CSOk))
		s.sendShutdown()
	} else {
		asker.c.Respond(cfg.EncodeStatusResponse(cfg.ResTryShutdown, ipc.CSErrBusy))
	}
	s.log.Debug(fmt.Sprintf("shutdown decision is: (yes count: %d, no count: %d) flags=%x", s.yes, s.no, uint32(s.flags)))
}

func (s *Service) shutdownTimedOut(asker *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutdown != asker {
		return
	}
	s.no = s.expected // the undecided count as no
	s.checkShutdown()
	ev := cfg.TestShutdown{Error: ipc.CSErrTimeout, Flags: s.flags}.Encode()
	for t := range s.trackers {
		t.c.Event(ev)
	}
}

// removeFromShutdown is corosync's remove_ci_from_shutdown: a leaving asker cancels,
// a leaving tracker counts as yes. Called with mu held.
func (s *Service) removeFromShutdown(ci *conn) {
	if ci == s.shutdown {
		s.shutdown = nil
		if s.timer != nil {
			s.timer.Stop()
			s.timer = nil
		}
	}
	if !ci.tracking {
		return
	}
	ci.tracking = false
	delete(s.trackers, ci)
	if s.shutdown != nil {
		switch ci.reply {
		case replyYes:
			s.yes--
		case replyNo:
			s.no--
		}
	}
	ci.reply = replyYes
	s.yes++
	s.checkShutdown()
}

func (s *Service) sendShutdown() {
	if err := s.send.Send(execShutdown, nil, evs.Safe); err != nil {
		s.log.Error("cannot send the shutdown message", "err", err)
	}
}

// requestReload multicasts a reload; the answer goes back when it is delivered here.
func (s *Service) requestReload(c *ipc.Conn) {
	s.mu.Lock()
	s.nextToken++
	tok := s.nextToken
	s.reloads[tok] = c
	s.mu.Unlock()
	var body [8]byte
	binary.LittleEndian.PutUint64(body[:], tok)
	if err := s.send.Send(execReload, body[:], evs.Safe); err != nil {
		s.mu.Lock()
		delete(s.reloads, tok)
		s.mu.Unlock()
		c.Respond(cfg.EncodeStatusResponse(cfg.ResReloadConfig, ipc.CSErrTryAgain))
	}
}

// reload applies a delivered reload on this node and answers the asker if it is here.
func (s *Service) reload(sender evs.NodeID, msg []byte) {
	if len(msg) != 8 {
		return
	}
	s.log.Log(context.Background(), logsys.LevelNotice, fmt.Sprintf("Config reload requested by node %d", sender))
	cs, cryptoLoaded := s.cfg.Host.Reload()
	if cryptoLoaded {
		// Every node loaded the new crypto where this message was delivered; each sends
		// its own phase messages so that the change does not hang on one node surviving.
		s.sendCryptoPhase(CryptoActivate)
	}
	if uint32(sender) != s.cfg.NodeID {
		return
	}
	tok := binary.LittleEndian.Uint64(msg)
	s.mu.Lock()
	c := s.reloads[tok]
	delete(s.reloads, tok)
	s.mu.Unlock()
	if c != nil {
		c.Respond(cfg.EncodeStatusResponse(cfg.ResReloadConfig, cs))
	}
}

// sendCryptoPhase multicasts a crypto phase as a safe message: when it comes back, every
// member has delivered what preceded it.
func (s *Service) sendCryptoPhase(p CryptoPhase) {
	var body [4]byte
	binary.LittleEndian.PutUint32(body[:], uint32(p))
	if err := s.send.Send(execCryptoReconfig, body[:], evs.Safe); err != nil {
		s.log.Error(fmt.Sprintf("cannot send crypto reconfiguration phase %d: %v", p, err))
	}
}

// cryptoPhase applies this node's own phase message (others' are theirs to act on) and
// sends the next phase: activate once every member has loaded the new configuration,
// cleanup once every member has had the chance to activate.
func (s *Service) cryptoPhase(sender evs.NodeID, msg []byte) {
	if uint32(sender) != s.cfg.NodeID || len(msg) != 4 {
		return
	}
	p := CryptoPhase(binary.LittleEndian.Uint32(msg))
	if p != CryptoActivate && p != CryptoCleanup {
		return
	}
	s.log.Debug(fmt.Sprintf("Crypto reconfiguration phase %d", p))
	s.cfg.Host.CryptoPhase(p)
	if p < CryptoCleanup {
		s.sendCryptoPhase(CryptoCleanup)
	}
}
