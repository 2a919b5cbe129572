package config

import (
	"fmt"
	"net/netip"
)

// Totem constants of totemconfig.c (HZ is 100 on Linux user space).
const (
	interfaceMax      = 8   // INTERFACE_MAX
	processorCountMax = 384 // PROCESSOR_COUNT_MAX: members per link
	knetMaxHost       = 65536
	defaultPort       = 5405
	minimumTimeout    = 30 // (1000/HZ)*3
	minimumTimeoutHld = 14 // MINIMUM_TIMEOUT*0.8 - 1000/HZ
	keyLenMin         = 128
	keyLenMax         = 4096
	linkModeBytes     = 64
	knetPingPrecision = 2048
	knetPongCount     = 2
	defaultKeyFile    = "/etc/corosync/authkey"
)

// Transports (totem.transport).
const (
	transportKnet = iota
	transportUDPU
	transportUDP
)

type member struct {
	addr   netip.Addr
	nodeid uint32
}

// link is struct totem_interface: what corosync knows of one link after loading.
type link struct {
	configured    bool
	bindnet       netip.Addr
	mcast         netip.Addr
	port          uint16
	ttl           uint16
	priority      int32
	pingInterval  int32
	pingTimeout   int32
	pingPrecision int32
	pongCount     int32
	members       []member
}

// totemConfig is the part of struct totem_config validation needs.
type totemConfig struct {
	transport    int
	version      int32
	cipher, hash string
	linkMode     string
	nodeID       uint32
	clearHighBit bool
	ipVer        ipVersion
	broadcast    bool
	links        [interfaceMax]link
	token        uint32
	tokenWarning uint32
	tokenRetrans uint32
	hold         uint32
	retransConst uint32
	join         uint32
	consensus    uint32
	merge        uint32
	downcheck    uint32
	maxNetDelay  uint32
}

// totemConfigRead replays totem_config_read.
func (s *loader) totemConfigRead() error {
	tc := &s.tc
	tc.transport = transportKnet
	if v, ok := s.str("totem.transport"); ok {
		switch v {
		case "udpu":
			tc.transport = transportUDPU
		case "udp":
			tc.transport = transportUDP
		case "knet":
		default:
			return s.fail("totem.transport", "Invalid transport type. Should be udpu, udp or knet")
		}
	}
	tc.linkMode = "passive"
	if v, ok := s.u32("totem.version"); ok {
		tc.version = int32(v)
	}
	if err := s.readCrypto(); err != nil {
		return err
	}
	if v, ok := s.str("totem.link_mode"); ok {
		if len(v) >= linkModeBytes {
			return s.fail("totem.link_mode", "totem.link_mode is too long")
		}
		tc.linkMode = v
	}
	if v, ok := s.str("totem.clear_node_high_bit"); ok && v == "yes" {
		tc.clearHighBit = true
	}
	tc.ipVer = ipv6v4
	if tc.transport == transportUDP {
		tc.ipVer = ipv4
	}
	if v, ok := s.str("totem.ip_version"); ok {
		switch v {
		case "ipv4":
			tc.ipVer = ipv4
		case "ipv6":
			tc.ipVer = ipv6
		case "ipv6-4":
			tc.ipVer = ipv6v4
		case "ipv4-6":
			tc.ipVer = ipv4v6
		}
	}
	_, hasBind := s.str("totem.interface.0.bindnetaddr")
	_, hasRing0 := s.str("nodelist.node.0.ring0_addr")
	if !hasBind || hasRing0 {
		s.nodelistToInterfaces()
	}
	tc.broadcast = false
	if err := s.interfaceParams(); err != nil {
		return err
	}
	if tc.broadcast {
		tc.links[0].mcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})
	}
	if tc.transport == transportUDP {
		for i := range tc.links {
			l := &tc.links[i]
			if !l.configured {
				continue
			}
			key := fmt.Sprintf("totem.interface.%d.mcastaddr", i)
			if _, ok := s.str(key); !ok {
				s.set(key, Str(ntop(l.mcast)))
			}
			key = fmt.Sprintf("totem.interface.%d.mcastport", i)
			if _, ok := s.u16(key); !ok {
				s.set(key, U16(l.port))
			}
		}
	}
	_, hasName := s.str("nodelist.node.0.name")
	if hasName || hasRing0 {
		if err := s.nodelistMembers(); err != nil {
			return err
		}
	}
	s.volatileRead()
	return s.knetPingTimers()
}

// ntop is totemip_print, which prints nothing useful for an unset address.
func ntop(a netip.Addr) string {
	if !a.IsValid() {
		return "(null)"
	}
	return ipString(a)
}

// readCrypto replays totem_get_crypto and totem_config_keyread.
func (s *loader) readCrypto() error {
	tc := &s.tc
	tc.cipher, tc.hash = "none", "none"
	if v, ok := s.str("totem.secauth"); ok && v == "on" {
		tc.cipher, tc.hash = "aes256", "sha256"
	}
	if v, ok := s.str("totem.crypto_cipher"); ok && oneOf(v, "none", "aes256", "aes192", "aes128") {
		tc.cipher = v
	}
	if v, ok := s.str("totem.crypto_hash"); ok && oneOf(v, "none", "md5", "sha1", "sha256", "sha384", "sha512") {
		tc.hash = v
	}
	if tc.cipher != "none" && tc.hash == "none" {
		return s.fail("totem.crypto_cipher", "crypto_cipher requires crypto_hash with value other than none")
	}
	if (tc.cipher == "none" && tc.hash == "none") || s.host.ReadFile == nil {
		return nil
	}
	if file, ok := s.str("totem.keyfile"); ok {
		return s.readKeyFile("totem.keyfile", file)
	}
	if v, ok := s.m["totem.key"]; ok {
		// icmap's length of a string counts its NUL.
		n := 0
		if str, isStr := v.V.(string); isStr {
			n = len(str) + 1
		}
		switch {
		case n > keyLenMax:
			return s.fail("totem.key", "key is too long")
		case n < keyLenMin:
			return s.fail("totem.key", "key is too short")
		}
		return nil
	}
	return s.readKeyFile("", defaultKeyFile)
}

func (s *loader) readKeyFile(key, file string) error {
	data, err := s.host.ReadFile(file)
	if err != nil {
		return s.fail(key, "Could not open %s: %s", file, strerror(err))
	}
	if len(data) > keyLenMax {
		data = data[:keyLenMax]
	}
	if len(data) < keyLenMin {
		return s.fail(key, "Could only read %d bits of minimum %d bits from %s.", len(data)*8, keyLenMin*8, file)
	}
	return nil
}
