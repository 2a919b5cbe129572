package main

import (
	"bytes"
	"fmt"
	"log/slog"

	transport "github.com/corosync-go/corosync/l1_transport"
	"github.com/corosync-go/corosync/l4_services/cfgsvc"
)

// cryptoState is the crypto in use and a change in progress. It is read and written on
// the ring's goroutine only (reload and the cfg engine's phases are deliveries).
type cryptoState struct {
	cur, next transport.CryptoConfig
	pending   bool // next is loaded beside cur, not yet activated
	index     int  // knet's crypto config index in use (1 or 2), for corosync's log line
}

// sameCrypto reports whether two resolved configurations protect packets alike.
func sameCrypto(a, b transport.CryptoConfig) bool {
	return a.Cipher == b.Cipher && a.Hash == b.Hash && bytes.Equal(a.Key, b.Key)
}

// initCrypto records the crypto the transport started with.
func (d *daemon) initCrypto() {
	c, err := d.set.ResolveCrypto(slog.New(slog.DiscardHandler))
	if err == nil {
		d.crypto = cryptoState{cur: c, index: 1}
	}
}

// reloadCrypto is corosync's totem_reread_crypto_config and totemknet_reconfigure on a
// reload: when the reloaded settings select other crypto (cipher, hash or authkey), it is
// loaded beside the one in use, so that packets under either are accepted; the cfg engine
// then activates it and cleans the old one up on every node. udp and udpu never encrypt.
func (d *daemon) reloadCrypto(set *transport.Settings, transportName string) (bool, error) {
	if transportName == "udp" || transportName == "udpu" {
		return false, nil
	}
	next, err := set.ResolveCrypto(d.sub("KNET"))
	if err != nil {
		return false, fmt.Errorf("Crypto configuration is not valid: %w", err)
	}
	if sameCrypto(next, d.crypto.cur) && !d.crypto.pending {
		return false, nil
	}
	if err := d.tr.CryptoLoad(next); err != nil {
		return false, fmt.Errorf("Crypto configuration is not valid: %w", err)
	}
	d.crypto.next, d.crypto.pending = next, true
	d.sub("KNET").Info(fmt.Sprintf("kronosnet crypto reconfigured on index %d: nss/%s/%s", 3-d.crypto.index, cryptoName(next.Cipher), cryptoName(next.Hash)))
	return true, nil
}

func cryptoName(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// cryptoPhase applies a phase of the change loaded by reloadCrypto.
func (d *daemon) cryptoPhase(p cfgsvc.CryptoPhase) {
	switch p {
	case cfgsvc.CryptoActivate:
		if !d.crypto.pending {
			return
		}
		if err := d.tr.CryptoActivate(); err != nil {
			d.sub("KNET").Error(fmt.Sprintf("knet_handle_crypto_use_config %d failed: %v", 3-d.crypto.index, err))
			return
		}
		d.crypto.cur, d.crypto.pending, d.crypto.index = d.crypto.next, false, 3-d.crypto.index
	case cfgsvc.CryptoCleanup:
		d.sub("KNET").Debug(fmt.Sprintf("Clearing old knet crypto config %d", 3-d.crypto.index))
		d.tr.CryptoCleanup()
	}
}
