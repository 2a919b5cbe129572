package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ringSeqStore keeps the highest ring sequence in state_dir/ringid_<nodeid>, the file and
// format corosync 3.1.7 uses (8 bytes, host order), so a node switching between the two
// daemons keeps its sequence.
type ringSeqStore struct{ path string }

func newRingSeqStore(stateDir string, nodeID uint32) ringSeqStore {
	return ringSeqStore{path: filepath.Join(stateDir, fmt.Sprintf("ringid_%d", nodeID))}
}

// load returns the stored sequence, 0 when there is none.
func (s ringSeqStore) load() (uint64, error) {
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if len(b) != 8 {
		return 0, fmt.Errorf("%s: %d bytes, want 8", s.path, len(b))
	}
	return binary.LittleEndian.Uint64(b), nil
}

// store writes seq durably: a temporary file, fsync, rename.
func (s ringSeqStore) store(seq uint64) error {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seq)
	tmp := s.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b[:])
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, s.path)
}
