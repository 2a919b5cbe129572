package transport

import (
	"bytes"
	"errors"
)

// Crypto changes at run time follow knet's two crypto config slots (corosync's
// crypto_index, which starts at 1 and flips on every change):
//
//  1. load: the new configuration goes into the spare slot. Packets sealed with either
//     slot are accepted, and clear ones too when the new configuration is none; sending
//     still uses the current slot.
//  2. activate: sending switches to the new slot (or to clear packets).
//  3. cleanup: the old slot is emptied; its packets are refused from then on, and clear
//     packets too unless the new configuration is none.
//
// corosync runs each step on every node when a cluster-wide safe message is delivered, so
// every node has loaded before any sends with the new slot, and every node sends with it
// before any drops the old one.

// reconfPhase is where a crypto change stands.
type reconfPhase uint8

const (
	phaseIdle      reconfPhase = iota // no change under way
	phaseLoaded                       // the spare slot holds a new configuration
	phaseActivated                    // sending uses it; the old slot is still accepted
)

// cryptoState is an immutable snapshot of the slots. Changes replace it whole (under
// cryptoMu, and txMu when the send side changes) so that the receive path reads it with
// one atomic load and no lock.
type cryptoState struct {
	suites [maxSlot + 1]*suite // by slot; index 0 (clear) is always nil, as is an empty slot
	cur    uint8               // the slot of the configuration in force (1 or 2)
	tx     uint8               // the slot packets are sealed with: cur, or slotClear when its suite is nil
	clear  bool                // clear packets are accepted
	phase  reconfPhase
}

// initialCrypto is the state New starts in: the configured suite in slot 1, or nothing and
// clear traffic when protection is off.
func initialCrypto(s *suite) *cryptoState {
	st := &cryptoState{cur: 1}
	st.suites[1] = s
	st.settle()
	return st
}

// settle derives tx and clear from the configuration in force, as they are outside a change.
func (st *cryptoState) settle() {
	st.tx, st.clear = slotClear, st.suites[st.cur] == nil
	if !st.clear {
		st.tx = st.cur
	}
}

func (st *cryptoState) spare() uint8 { return maxSlot + 1 - st.cur }

// name is the send side's suite, as corosync names it (cipher/hash), or none.
func (st *cryptoState) name() string {
	if s := st.suites[st.tx]; s != nil {
		return s.name
	}
	return "none"
}

// errNothingLoaded is CryptoActivate's error without a CryptoLoad to activate.
var errNothingLoaded = errors.New("transport: no crypto configuration loaded to activate")

// CryptoLoad puts cfg in the spare crypto slot (knet_handle_crypto_set_config on the other
// index): from now on packets sealed with either slot are accepted, and clear packets too
// if cfg turns protection off, while this node keeps sending with the current slot. cfg is
// validated as New does; an invalid one changes nothing. Loading again before
// CryptoActivate replaces the spare slot; loading after CryptoActivate but before
// CryptoCleanup ends that change first (its old slot is the one overwritten).
func (t *Transport) CryptoLoad(cfg CryptoConfig) error {
	cfg.Key = bytes.Clone(cfg.Key) // the caller may reuse its buffer
	s, err := newSuite(cfg)
	if err != nil {
		return err
	}
	var tx sealer
	if s != nil {
		if tx, err = s.forSession(t.cfg.LocalNode, t.session); err != nil {
			return err
		}
	}
	t.cryptoMu.Lock()
	defer t.cryptoMu.Unlock()
	st := *t.crypto.Load()
	if st.phase == phaseActivated {
		st.suites[st.spare()] = nil
		st.settle()
	}
	slot := st.spare()
	st.suites[slot] = s
	// Clear packets stay accepted while the configuration in force is none, and become
	// accepted when the new one is: peers that activated before us send them.
	st.clear = st.suites[st.cur] == nil || s == nil
	st.phase = phaseLoaded
	t.pendingTx = tx
	t.crypto.Store(&st)
	t.log.Info("crypto configuration loaded", "slot", slot, "crypto", nameOf(s))
	return nil
}

// CryptoActivate makes this node send with the configuration CryptoLoad put in the spare
// slot (knet_handle_crypto_use_config), or send clear packets if it turned protection off.
// Both slots stay accepted until CryptoCleanup. It fails when nothing was loaded.
func (t *Transport) CryptoActivate() error {
	t.cryptoMu.Lock()
	defer t.cryptoMu.Unlock()
	st := *t.crypto.Load()
	if st.phase != phaseLoaded {
		return errNothingLoaded
	}
	st.cur = st.spare()
	st.tx = slotClear
	if st.suites[st.cur] != nil {
		st.tx = st.cur
	}
	st.phase = phaseActivated
	// Under txMu: a packet's slot and its tag (and so the fragment size) must agree.
	t.txMu.Lock()
	t.txSealer, t.txSlot = t.pendingTx, st.tx
	t.crypto.Store(&st)
	t.txMu.Unlock()
	t.pendingTx = nil
	t.log.Info("crypto configuration activated", "slot", st.cur, "crypto", st.name())
	return nil
}

// CryptoCleanup empties the slot CryptoActivate switched away from: packets sealed with it
// are refused from now on, and clear packets too unless the configuration in force is
// none. It does nothing unless CryptoActivate has run since the last CryptoLoad.
func (t *Transport) CryptoCleanup() {
	t.cryptoMu.Lock()
	defer t.cryptoMu.Unlock()
	st := *t.crypto.Load()
	if st.phase != phaseActivated {
		return
	}
	old := st.spare()
	st.suites[old] = nil
	st.settle()
	st.phase = phaseIdle
	t.crypto.Store(&st)
	t.log.Info("old crypto configuration cleared", "slot", old, "clear_traffic", st.clear)
}

// CryptoName is the protection this node sends with, as cipher/hash (aes256/sha256), or
// none.
func (t *Transport) CryptoName() string { return t.crypto.Load().name() }

func nameOf(s *suite) string {
	if s == nil {
		return "none"
	}
	return s.name
}
