package votequorum

import "github.com/corosync-go/corosync/ipc/frame"

// EncodeHeaderRequest returns a request that is only a header: TRACKSTOP
// (req_lib_votequorum_general).
func EncodeHeaderRequest(id int32) []byte {
	return frame.FinishRequest(frame.Request(HeaderRequestBytes, reqHdr), id)
}

// DecodeHeaderRequest checks a request that is only a header.
func DecodeHeaderRequest(msg []byte, id int32) error {
	_, err := requestDecoder(msg, id, HeaderRequestBytes, "request")
	return err
}

// GetInfoRequest is req_lib_votequorum_getinfo. NodeID 0 (QdeviceNodeID) means the
// local node.
type GetInfoRequest struct {
	NodeID uint32
}

// Encode returns the request's bytes: the node id at 16, then padding.
func (r GetInfoRequest) Encode() []byte { return wordRequest(ReqGetInfo, r.NodeID) }

// DecodeGetInfoRequest decodes a GETINFO request.
func DecodeGetInfoRequest(msg []byte) (GetInfoRequest, error) {
	v, err := decodeWordRequest(msg, ReqGetInfo, "getinfo request")
	return GetInfoRequest{NodeID: v}, err
}

// SetExpectedRequest is req_lib_votequorum_setexpected.
type SetExpectedRequest struct {
	ExpectedVotes uint32
}

// Encode returns the request's bytes: the expected votes at 16, then padding.
func (r SetExpectedRequest) Encode() []byte { return wordRequest(ReqSetExpected, r.ExpectedVotes) }

// DecodeSetExpectedRequest decodes a SETEXPECTED request.
func DecodeSetExpectedRequest(msg []byte) (SetExpectedRequest, error) {
	v, err := decodeWordRequest(msg, ReqSetExpected, "setexpected request")
	return SetExpectedRequest{ExpectedVotes: v}, err
}

// SetVotesRequest is req_lib_votequorum_setvotes (NodeID is not translated: 0 is the
// quorum device).
type SetVotesRequest struct {
	NodeID uint32
	Votes  uint32
}

// Encode returns the request's bytes: the votes at 16, the node id at 20.
func (r SetVotesRequest) Encode() []byte {
	e := frame.Request(WordRequestBytes, reqHdr)
	e.U32(r.Votes)
	e.U32(r.NodeID)
	return frame.FinishRequest(e, ReqSetVotes)
}

// DecodeSetVotesRequest decodes a SETVOTES request.
func DecodeSetVotesRequest(msg []byte) (SetVotesRequest, error) {
	const what = "setvotes request"
	d, err := requestDecoder(msg, ReqSetVotes, WordRequestBytes, what)
	if err != nil {
		return SetVotesRequest{}, err
	}
	var r SetVotesRequest
	r.Votes = d.U32()
	r.NodeID = d.U32()
	return r, done(d, what)
}

// TrackStartRequest is req_lib_votequorum_trackstart. Context is the caller's value, which
// the daemon echoes in every notification of the subscription.
type TrackStartRequest struct {
	Context uint64
	Flags   TrackFlags
}

// Encode returns the request's bytes: the context at 16, the flags at 24, then padding.
func (r TrackStartRequest) Encode() []byte {
	e := frame.Request(TrackStartRequestBytes, reqHdr)
	e.U64(r.Context)
	e.U32(uint32(r.Flags))
	e.Zero(4)
	return frame.FinishRequest(e, ReqTrackStart)
}

// DecodeTrackStartRequest decodes a TRACKSTART request.
func DecodeTrackStartRequest(msg []byte) (TrackStartRequest, error) {
	const what = "trackstart request"
	d, err := requestDecoder(msg, ReqTrackStart, TrackStartRequestBytes, what)
	if err != nil {
		return TrackStartRequest{}, err
	}
	var r TrackStartRequest
	r.Context = d.U64()
	r.Flags = TrackFlags(d.U32())
	return r, done(d, what)
}

// QdeviceRegisterRequest is req_lib_votequorum_qdevice_register.
type QdeviceRegisterRequest struct {
	Name string
}

// Encode returns the request's bytes: the name NUL-padded in 255 bytes at 16, then one
// byte of padding. A name that does not fit gives an error wrapping ipc.CSErrInvalid.
func (r QdeviceRegisterRequest) Encode() ([]byte, error) {
	return nameRequest(ReqQdeviceRegister, r.Name)
}

// DecodeQdeviceRegisterRequest decodes a QDEVICE_REGISTER request.
func DecodeQdeviceRegisterRequest(msg []byte) (QdeviceRegisterRequest, error) {
	n, err := decodeNameRequest(msg, ReqQdeviceRegister, "qdevice register request")
	return QdeviceRegisterRequest{Name: n}, err
}

// QdeviceUnregisterRequest is req_lib_votequorum_qdevice_unregister.
type QdeviceUnregisterRequest struct {
	Name string
}

// Encode returns the request's bytes (the layout of a register request).
func (r QdeviceUnregisterRequest) Encode() ([]byte, error) {
	return nameRequest(ReqQdeviceUnregister, r.Name)
}

// DecodeQdeviceUnregisterRequest decodes a QDEVICE_UNREGISTER request.
func DecodeQdeviceUnregisterRequest(msg []byte) (QdeviceUnregisterRequest, error) {
	n, err := decodeNameRequest(msg, ReqQdeviceUnregister, "qdevice unregister request")
	return QdeviceUnregisterRequest{Name: n}, err
}

func nameRequest(id int32, n string) ([]byte, error) {
	if err := checkName("device name", n); err != nil {
		return nil, err
	}
	e := frame.Request(QdeviceNameRequestBytes, reqHdr)
	putName(e, n)
	e.Zero(QdeviceNameRequestBytes - len(e.B))
	return frame.FinishRequest(e, id), nil
}

func decodeNameRequest(msg []byte, id int32, what string) (string, error) {
	d, err := requestDecoder(msg, id, QdeviceNameRequestBytes, what)
	if err != nil {
		return "", err
	}
	n := readName(d)
	return n, done(d, what)
}

// QdeviceUpdateRequest is req_lib_votequorum_qdevice_update: rename the registered
// device.
type QdeviceUpdateRequest struct {
	OldName string
	NewName string
}

// Encode returns the request's bytes: the old name at 16, the new one right after it at
// 271 (char arrays are not aligned), then two bytes of padding.
func (r QdeviceUpdateRequest) Encode() ([]byte, error) {
	if err := checkName("old device name", r.OldName); err != nil {
		return nil, err
	}
	if err := checkName("new device name", r.NewName); err != nil {
		return nil, err
	}
	e := frame.Request(QdeviceUpdateRequestBytes, reqHdr)
	putName(e, r.OldName)
	putName(e, r.NewName)
	e.Zero(QdeviceUpdateRequestBytes - len(e.B))
	return frame.FinishRequest(e, ReqQdeviceUpdate), nil
}

// DecodeQdeviceUpdateRequest decodes a QDEVICE_UPDATE request.
func DecodeQdeviceUpdateRequest(msg []byte) (QdeviceUpdateRequest, error) {
	const what = "qdevice update request"
	d, err := requestDecoder(msg, ReqQdeviceUpdate, QdeviceUpdateRequestBytes, what)
	if err != nil {
		return QdeviceUpdateRequest{}, err
	}
	var r QdeviceUpdateRequest
	r.OldName = readName(d)
	r.NewName = readName(d)
	return r, done(d, what)
}

// QdevicePollRequest is req_lib_votequorum_qdevice_poll: the device is alive and casts
// its vote or not, for the ring RingID (which must be the daemon's current one).
type QdevicePollRequest struct {
	Name     string
	CastVote bool
	RingID   RingID
}

// Encode returns the request's bytes: the name at 16, cast_vote at 272, the ring id at
// 280 (node id) and 288 (seq).
func (r QdevicePollRequest) Encode() ([]byte, error) {
	if err := checkName("device name", r.Name); err != nil {
		return nil, err
	}
	e := frame.Request(QdevicePollRequestBytes, reqHdr)
	putName(e, r.Name)
	e.Zero(1)
	e.U32(boolWord(r.CastVote))
	e.Zero(4)
	putRingID(e, r.RingID)
	return frame.FinishRequest(e, ReqQdevicePoll), nil
}

// DecodeQdevicePollRequest decodes a QDEVICE_POLL request; any non-zero cast_vote casts
// the vote, as in the daemon.
func DecodeQdevicePollRequest(msg []byte) (QdevicePollRequest, error) {
	const what = "qdevice poll request"
	d, err := requestDecoder(msg, ReqQdevicePoll, QdevicePollRequestBytes, what)
	if err != nil {
		return QdevicePollRequest{}, err
	}
	var r QdevicePollRequest
	r.Name = readName(d)
	d.Skip(1)
	r.CastVote = d.U32() != 0
	d.Skip(4)
	r.RingID = ringID(d)
	return r, done(d, what)
}

// QdeviceMasterWinsRequest is req_lib_votequorum_qdevice_master_wins.
type QdeviceMasterWinsRequest struct {
	Name  string
	Allow bool
}

// Encode returns the request's bytes: the name at 16, allow at 272, then padding.
func (r QdeviceMasterWinsRequest) Encode() ([]byte, error) {
	if err := checkName("device name", r.Name); err != nil {
		return nil, err
	}
	e := frame.Request(QdeviceMasterWinsRequestBytes, reqHdr)
	putName(e, r.Name)
	e.Zero(1)
	e.U32(boolWord(r.Allow))
	e.Zero(4)
	return frame.FinishRequest(e, ReqQdeviceMasterWins), nil
}

// DecodeQdeviceMasterWinsRequest decodes a QDEVICE_MASTER_WINS request.
func DecodeQdeviceMasterWinsRequest(msg []byte) (QdeviceMasterWinsRequest, error) {
	const what = "qdevice master wins request"
	d, err := requestDecoder(msg, ReqQdeviceMasterWins, QdeviceMasterWinsRequestBytes, what)
	if err != nil {
		return QdeviceMasterWinsRequest{}, err
	}
	var r QdeviceMasterWinsRequest
	r.Name = readName(d)
	d.Skip(1)
	r.Allow = d.U32() != 0
	return r, done(d, what)
}

func wordRequest(id int32, v uint32) []byte {
	e := frame.Request(WordRequestBytes, reqHdr)
	e.U32(v)
	e.Zero(4)
	return frame.FinishRequest(e, id)
}

func decodeWordRequest(msg []byte, id int32, what string) (uint32, error) {
	d, err := requestDecoder(msg, id, WordRequestBytes, what)
	if err != nil {
		return 0, err
	}
	v := d.U32()
	return v, done(d, what)
}
