package transport

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"os"

	"golang.org/x/crypto/chacha20poly1305"
)

// Key length bounds of corosync-keygen and knet (KNET_MIN/MAX_KEY_LEN).
const (
	MinKeyBytes = 128
	MaxKeyBytes = 4096
)

// tagBytes is the authentication tag appended to every packet when crypto is on.
const tagBytes = 16

// CryptoConfig selects packet protection with corosync's names.
type CryptoConfig struct {
	// Cipher is crypto_cipher: aes256 (default when a key is given), aes192, aes128,
	// chacha20poly1305, or none.
	Cipher string
	// Hash is crypto_hash. With a cipher it is implied by the AEAD and only checked for
	// a known name; with cipher none it selects HMAC authentication without encryption
	// (md5, sha1, sha256, sha384, sha512), and none turns protection off.
	Hash string
	// Key is the authkey contents (MinKeyBytes..MaxKeyBytes).
	Key []byte
}

// LoadKey reads an authkey file as corosync-keygen writes it: raw random bytes.
func LoadKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("transport: read authkey: %w", err)
	}
	if len(key) < MinKeyBytes || len(key) > MaxKeyBytes {
		return nil, fmt.Errorf("transport: authkey %s is %d bytes; it must be %d to %d (run corosync-keygen)", path, len(key), MinKeyBytes, MaxKeyBytes)
	}
	return key, nil
}

// sealer protects packets of one sender session.
type sealer interface {
	// seal appends the protected body to dst (header bytes already in dst[:headerBytes]).
	seal(dst, hdr, nonce, plain []byte) []byte
	// open checks and decrypts body into dst, returning the plaintext.
	open(dst, hdr, nonce, body []byte) ([]byte, error)
	overhead() int
}

var errAuth = errors.New("transport: packet failed authentication")

// suite derives per-session sealers from the configured key.
type suite struct {
	name string
	key  []byte
	make func(sessionKey []byte) (sealer, error)
	size int // bytes of session key material
}

// newSuite validates cfg and returns nil when protection is off.
func newSuite(cfg CryptoConfig) (*suite, error) {
	cipherName, hashName := cfg.Cipher, cfg.Hash
	if cipherName == "" {
		cipherName = "none"
		if len(cfg.Key) > 0 {
			cipherName = "aes256"
		}
	}
	if hashName == "" {
		hashName = "none"
		if cipherName != "none" {
			hashName = "sha256"
		}
	}
	switch hashName {
	case "none", "md5", "sha1", "sha256", "sha384", "sha512":
	default:
		return nil, fmt.Errorf("transport: unknown crypto_hash %q (none, md5, sha1, sha256, sha384, sha512)", hashName)
	}
	s := &suite{name: cipherName + "/" + hashName, key: cfg.Key}
	switch cipherName {
	case "aes256", "aes192", "aes128":
		s.size = map[string]int{"aes256": 32, "aes192": 24, "aes128": 16}[cipherName]
		s.make = func(k []byte) (sealer, error) {
			block, err := aes.NewCipher(k)
			if err != nil {
				return nil, err
			}
			g, err := cipher.NewGCM(block)
			return aeadSealer{g}, err
		}
	case "chacha20poly1305", "chacha20":
		s.size = chacha20poly1305.KeySize
		s.make = func(k []byte) (sealer, error) {
			a, err := chacha20poly1305.New(k)
			return aeadSealer{a}, err
		}
	case "none":
		if hashName == "none" {
			return nil, nil
		}
		h := hashFunc(hashName)
		s.size = 32
		s.make = func(k []byte) (sealer, error) { return &macSealer{mac: hmac.New(h, k)}, nil }
	default:
		return nil, fmt.Errorf("transport: unknown crypto_cipher %q (aes256, aes192, aes128, chacha20poly1305, none)", cipherName)
	}
	if len(cfg.Key) < MinKeyBytes || len(cfg.Key) > MaxKeyBytes {
		return nil, fmt.Errorf("transport: crypto_cipher %s needs an authkey of %d to %d bytes, have %d", cipherName, MinKeyBytes, MaxKeyBytes, len(cfg.Key))
	}
	return s, nil
}

func hashFunc(name string) func() hash.Hash {
	switch name {
	case "md5":
		return md5.New
	case "sha1":
		return sha1.New
	case "sha384":
		return sha512.New384
	case "sha512":
		return sha512.New
	}
	return sha256.New
}

// forSession derives the sealer of one sender session: HKDF-SHA256 over the authkey, with
// the sender and its session as salt, so a restarted sender never reuses a nonce under
// the same key.
func (s *suite) forSession(src NodeID, session uint64) (sealer, error) {
	var salt [12]byte
	binary.BigEndian.PutUint32(salt[:], uint32(src))
	binary.BigEndian.PutUint64(salt[4:], session)
	k, err := hkdf.Key(sha256.New, s.key, salt[:], "corosync-go l1 v1 "+s.name, s.size)
	if err != nil {
		return nil, err
	}
	return s.make(k)
}

type aeadSealer struct{ a cipher.AEAD }

func (s aeadSealer) seal(dst, hdr, nonce, plain []byte) []byte {
	return s.a.Seal(dst, nonce, plain, hdr)
}

func (s aeadSealer) open(dst, hdr, nonce, body []byte) ([]byte, error) {
	p, err := s.a.Open(dst, nonce, body, hdr)
	if err != nil {
		return nil, errAuth
	}
	return p, nil
}

func (s aeadSealer) overhead() int { return s.a.Overhead() }

// macSealer authenticates without encrypting (crypto_cipher none with a crypto_hash).
// It is used from one goroutine per direction, so the hash state is guarded by the
// caller's ownership of the sealer copy (see peer.rx and transport.tx).
type macSealer struct {
	mac hash.Hash
	sum [64]byte
}

func (s *macSealer) tag(hdr, nonce, plain []byte) []byte {
	s.mac.Reset()
	s.mac.Write(hdr)
	s.mac.Write(nonce)
	s.mac.Write(plain)
	return s.mac.Sum(s.sum[:0])[:tagBytes]
}

func (s *macSealer) seal(dst, hdr, nonce, plain []byte) []byte {
	dst = append(dst, plain...)
	return append(dst, s.tag(hdr, nonce, plain)...)
}

func (s *macSealer) open(dst, hdr, nonce, body []byte) ([]byte, error) {
	if len(body) < tagBytes {
		return nil, errAuth
	}
	plain := body[:len(body)-tagBytes]
	if subtle.ConstantTimeCompare(s.tag(hdr, nonce, plain), body[len(plain):]) != 1 {
		return nil, errAuth
	}
	return append(dst, plain...), nil
}

func (s *macSealer) overhead() int { return tagBytes }

// nonceFor builds the 12-byte nonce dst‖seq.
func nonceFor(b *[12]byte, dst NodeID, seq uint64) []byte {
	binary.BigEndian.PutUint32(b[:], uint32(dst))
	binary.BigEndian.PutUint64(b[4:], seq)
	return b[:]
}
