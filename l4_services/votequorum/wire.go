package votequorum

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	vq "github.com/corosync-go/corosync/ipc/votequorum"
)

// Exec message ids (corosync's MESSAGE_REQ_EXEC_VOTEQUORUM_*).
const (
	execNodeInfo           = 0
	execReconfigure        = 1
	execQdeviceReg         = 2
	execQdeviceReconfigure = 3
)

// Reconfigure parameters (VOTEQUORUM_RECONFIG_PARAM_*).
const (
	paramExpectedVotes = 1
	paramNodeVotes     = 2
	paramCancelWFA     = 3
)

// Qdevice registration operations (VOTEQUORUM_QDEVICE_OPERATION_*).
const (
	qdeviceOpUnregister = 0
	qdeviceOpRegister   = 1
)

// Sizes of the exec messages' bodies: corosync's structs without their request header (the
// executive carries the message id), little-endian.
const (
	nodeInfoBytes           = 16
	reconfigureBytes        = 12
	qdeviceRegBytes         = 4 + vq.QdeviceMaxNameLen
	qdeviceReconfigureBytes = 2 * vq.QdeviceMaxNameLen
)

// ErrBadMessage is wrapped by the errors of exec messages that do not have their layout.
var ErrBadMessage = errors.New("votequorum: malformed exec message")

// nodeInfo is req_exec_quorum_nodeinfo: a node's (or, with node id 0, the quorum
// device's) votes, expected votes and NODE_FLAGS_*.
type nodeInfo struct {
	NodeID, Votes, Expected, Flags uint32
}

func (m nodeInfo) encode() []byte {
	b := make([]byte, nodeInfoBytes)
	binary.LittleEndian.PutUint32(b[0:], m.NodeID)
	binary.LittleEndian.PutUint32(b[4:], m.Votes)
	binary.LittleEndian.PutUint32(b[8:], m.Expected)
	binary.LittleEndian.PutUint32(b[12:], m.Flags)
	return b
}

func decodeNodeInfo(b []byte) (nodeInfo, error) {
	if len(b) != nodeInfoBytes {
		return nodeInfo{}, fmt.Errorf("%w: nodeinfo of %d bytes, want %d", ErrBadMessage, len(b), nodeInfoBytes)
	}
	return nodeInfo{
		NodeID:   binary.LittleEndian.Uint32(b[0:]),
		Votes:    binary.LittleEndian.Uint32(b[4:]),
		Expected: binary.LittleEndian.Uint32(b[8:]),
		Flags:    binary.LittleEndian.Uint32(b[12:]),
	}, nil
}

// reconfigure is req_exec_quorum_reconfigure: set expected votes, a node's votes, or
// cancel wait_for_all.
type reconfigure struct {
	NodeID, Value uint32
	Param         uint8
}

func (m reconfigure) encode() []byte {
	b := make([]byte, reconfigureBytes)
	binary.LittleEndian.PutUint32(b[0:], m.NodeID)
	binary.LittleEndian.PutUint32(b[4:], m.Value)
	b[8] = m.Param
	return b
}

func decodeReconfigure(b []byte) (reconfigure, error) {
	if len(b) != reconfigureBytes {
		return reconfigure{}, fmt.Errorf("%w: reconfigure of %d bytes, want %d", ErrBadMessage, len(b), reconfigureBytes)
	}
	return reconfigure{
		NodeID: binary.LittleEndian.Uint32(b[0:]),
		Value:  binary.LittleEndian.Uint32(b[4:]),
		Param:  b[8],
	}, nil
}

// qdeviceReg is req_exec_quorum_qdevice_reg.
type qdeviceReg struct {
	Operation uint32
	Name      string
}

func (m qdeviceReg) encode() []byte {
	b := make([]byte, qdeviceRegBytes)
	binary.LittleEndian.PutUint32(b, m.Operation)
	copy(b[4:4+vq.QdeviceMaxNameLen-1], m.Name)
	return b
}

func decodeQdeviceReg(b []byte) (qdeviceReg, error) {
	if len(b) != qdeviceRegBytes {
		return qdeviceReg{}, fmt.Errorf("%w: qdevice registration of %d bytes, want %d", ErrBadMessage, len(b), qdeviceRegBytes)
	}
	name, err := cName(b[4:])
	if err != nil {
		return qdeviceReg{}, err
	}
	return qdeviceReg{Operation: binary.LittleEndian.Uint32(b), Name: name}, nil
}

// qdeviceReconfigure is req_exec_quorum_qdevice_reconfigure: a device rename.
type qdeviceReconfigure struct {
	OldName, NewName string
}

func (m qdeviceReconfigure) encode() []byte {
	b := make([]byte, qdeviceReconfigureBytes)
	copy(b[:vq.QdeviceMaxNameLen-1], m.OldName)
	copy(b[vq.QdeviceMaxNameLen:2*vq.QdeviceMaxNameLen-1], m.NewName)
	return b
}

func decodeQdeviceReconfigure(b []byte) (qdeviceReconfigure, error) {
	if len(b) != qdeviceReconfigureBytes {
		return qdeviceReconfigure{}, fmt.Errorf("%w: qdevice rename of %d bytes, want %d", ErrBadMessage, len(b), qdeviceReconfigureBytes)
	}
	o, err := cName(b[:vq.QdeviceMaxNameLen])
	if err != nil {
		return qdeviceReconfigure{}, err
	}
	n, err := cName(b[vq.QdeviceMaxNameLen:])
	if err != nil {
		return qdeviceReconfigure{}, err
	}
	return qdeviceReconfigure{OldName: o, NewName: n}, nil
}

// cName reads a NUL-terminated name field, which must hold its NUL.
func cName(b []byte) (string, error) {
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return "", fmt.Errorf("%w: name without its NUL", ErrBadMessage)
	}
	return string(b[:i]), nil
}
