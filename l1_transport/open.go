package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"

	link "github.com/corosync-go/corosync/l0_link"
	"github.com/corosync-go/corosync/l0_link/rdma"
	"github.com/corosync-go/corosync/l0_link/udp"
	"github.com/corosync-go/corosync/l0_link/xdp"
)

// OpenLinks opens every configured interface with its knet_transport kind. An xdp link
// that cannot start (not root, driver or kernel refuses, program already attached) is
// logged in one line and replaced by a udp link on the same address, so a node always
// comes up; an rdma link that cannot start is an error, since its peers expect RDMA.
// On error, links already opened are closed.
func OpenLinks(s *Settings, log *slog.Logger) ([]LinkSpec, error) {
	if log == nil {
		log = slog.Default()
	}
	var specs []LinkSpec
	closeAll := func() {
		for _, sp := range specs {
			sp.Link.Close()
		}
	}
	for _, ifs := range s.Interfaces {
		l, err := openInterface(ifs, log)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("link %d (%s on %s): %w", ifs.Number, ifs.Kind, ifs.Local, err)
		}
		spec := LinkSpec{Number: ifs.Number, Priority: ifs.Priority, Link: l, MTUBytes: ifs.MTUBytes}
		if g, ok := l.(interface{ Group() (netip.AddrPort, bool) }); ok {
			spec.Group, _ = g.Group()
		}
		specs = append(specs, spec)
	}
	return specs, nil
}

func openInterface(ifs InterfaceSettings, log *slog.Logger) (link.Link, error) {
	openUDP := func() (link.Link, error) {
		return udp.Open(udp.Config{Local: ifs.Local, DSCP: ifs.DSCP, Multicast: ifs.Group, Broadcast: ifs.Broadcast, MulticastTTL: ifs.TTL})
	}
	if (ifs.Group.IsValid() || ifs.Broadcast) && ifs.Kind != "udp" && ifs.Kind != "" {
		return nil, fmt.Errorf("group mode (multicast or broadcast) needs a udp link, not %s", ifs.Kind)
	}
	switch ifs.Kind {
	case "", "udp":
		return openUDP()
	case "xdp":
		ifc, err := link.InterfaceWith(ifs.Local.Addr())
		if err != nil {
			return nil, err
		}
		name := ifc.Name
		l, err := xdp.Open(xdp.Config{Interface: name, Local: ifs.Local, DSCP: ifs.DSCP})
		if err == nil {
			log.Info("link uses AF_XDP", "link", ifs.Number, "interface", name, "mode", l.Mode(), "zerocopy", l.ZeroCopy())
			return l, nil
		}
		if !errors.Is(err, xdp.ErrUnavailable) {
			return nil, err
		}
		log.Warn(err.Error()+"; falling back to udp", "link", ifs.Number)
		return openUDP()
	case "rdma":
		return rdma.Open(rdma.Config{Local: ifs.Local})
	}
	return nil, fmt.Errorf("unknown knet_transport %q", ifs.Kind)
}

// Start loads the key if one is needed, opens the links and starts a transport. When
// neither crypto_cipher nor crypto_hash is set and the key file exists, it encrypts with
// aes256 (corosync 3.1.7 would send in clear; we do not when a key is there).
func Start(ctx context.Context, s *Settings, handler Handler, log *slog.Logger) (*Transport, error) {
	if log == nil {
		log = slog.Default()
	}
	cfg := s.Config
	crypto, err := s.ResolveCrypto(log)
	if err != nil {
		return nil, err
	}
	cfg.Crypto = crypto
	specs, err := OpenLinks(s, log)
	if err != nil {
		return nil, err
	}
	cfg.Links = specs
	t, err := New(ctx, cfg, handler, log)
	if err != nil {
		for _, sp := range specs {
			sp.Link.Close()
		}
		return nil, err
	}
	return t, nil
}

// ResolveCrypto returns the crypto configuration s selects, with the authkey read: crypto
// explicitly off needs no key; with neither crypto_cipher nor crypto_hash set, aes256 if
// the key file exists and no protection (with a warning) if it does not; otherwise the key
// file must exist. A reload resolves the new settings the same way to compare them with
// those in use.
func (s *Settings) ResolveCrypto(log *slog.Logger) (CryptoConfig, error) {
	if log == nil {
		log = slog.Default()
	}
	c := s.Config.Crypto
	explicitOff := c.Cipher == "none" && (c.Hash == "none" || c.Hash == "")
	switch {
	case explicitOff:
	case c.Cipher == "" && c.Hash == "":
		key, err := LoadKey(s.KeyFile)
		switch {
		case err == nil:
			c.Cipher, c.Key = "aes256", key
		case errors.Is(err, os.ErrNotExist):
			log.Warn("packets are NOT encrypted or authenticated: no authkey and no crypto_cipher set; run corosync-keygen, or set crypto_cipher: none to say this is intended", "authkey", s.KeyFile)
		default:
			return CryptoConfig{}, err
		}
	default:
		key, err := LoadKey(s.KeyFile)
		if err != nil {
			return CryptoConfig{}, err
		}
		c.Key = key
	}
	return c, nil
}
