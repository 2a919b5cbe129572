package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/corosync-go/corosync/cmd/internal/cserr"
	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cmap"
	"github.com/corosync-go/corosync/ipc/quorum"
	"github.com/corosync-go/corosync/ipc/votequorum"
)

// exitNotQuorate is -s's exit status when the node is not quorate.
const exitNotQuorate = 2

// errDispatchClosed stands for a dispatch on a connection the daemon has closed, which
// libquorum and libvotequorum report as CS_ERR_LIBRARY.
var errDispatchClosed = ipc.CSErrLibrary

// tool is one run against the daemon: the connections init_all opens and what the
// notifications have told so far (the C tool's globals).
type tool struct {
	ctx            context.Context
	d              deps
	o              options
	stdout, stderr io.Writer

	cm    cmapAPI
	q     quorumAPI
	qType quorum.Type
	cf    cfgAPI
	vq    votequorumAPI // nil unless votequorum is the provider
	ourID uint32

	// From the last quorum notification: quorate, ring sequence and members. view is nil
	// once a membership display has consumed it, as the C tool frees its list.
	quorate bool
	ringSeq uint64
	view    []uint32
	viewLen int
	// ringRep is the ring's representative from the last votequorum node list.
	ringRep uint32
}

// run is the whole tool: argv is the command line with argv[0], posixlyCorrect whether
// POSIXLY_CORRECT is set. It returns the exit status.
func run(ctx context.Context, argv []string, posixlyCorrect bool, stdout, stderr io.Writer, d deps) int {
	argv0 := ""
	if len(argv) > 0 {
		argv0, argv = argv[0], argv[1:]
	}
	o, done, code := parseArgs(argv0, argv, posixlyCorrect, stdout, stderr)
	if done {
		return code
	}
	t := &tool{ctx: ctx, d: d, o: o, stdout: stdout, stderr: stderr}
	defer t.closeAll()
	if !t.initAll() {
		return 1
	}
	switch o.cmd {
	case cmdShowNodes:
		return t.showNodes()
	case cmdSetVotes:
		if t.usingVotequorum() > 0 {
			id := o.nodeID
			if !o.nodeIDSet {
				id = t.ourID
			}
			return t.setVotes(id, o.votes)
		}
		io.WriteString(stderr, "You cannot change node votes, corosync is not using votequorum\n")
		return 1
	case cmdSetExpected:
		if t.usingVotequorum() > 0 {
			return t.setExpected(o.votes)
		}
		io.WriteString(stderr, "You cannot change expected votes, corosync is not using votequorum\n")
		return 1
	case cmdMonitor:
		return t.monitor()
	case cmdUnregisterQdevice:
		if t.usingVotequorum() > 0 {
			return t.unregisterQdevice()
		}
		io.WriteString(stderr, "You cannot unregister quorum device, corosync is not using votequorum\n")
		return 1
	}
	return t.showStatus()
}

// initAll connects as init_all does: cmap, quorum, cfg, and votequorum when it is the
// provider, whose node id it then reads.
func (t *tool) initAll() bool {
	var err error
	if t.cm, err = t.d.dialCmap(t.ctx); err != nil {
		t.cm = nil
		io.WriteString(t.stderr, "Cannot initialize CMAP service\n")
		return false
	}
	if t.q, err = t.d.dialQuorum(t.ctx); err != nil {
		t.q = nil
		io.WriteString(t.stderr, "Cannot initialize QUORUM service\n")
		return false
	}
	t.qType = t.q.Type()
	if t.cf, err = t.d.dialCfg(t.ctx); err != nil {
		t.cf = nil
		io.WriteString(t.stderr, "Cannot initialise CFG service\n")
		return false
	}
	if t.usingVotequorum() <= 0 {
		return true
	}
	if t.vq, err = t.d.dialVotequorum(t.ctx); err != nil {
		t.vq = nil
		io.WriteString(t.stderr, "Cannot initialise VOTEQUORUM service\n")
		return false
	}
	v, err := t.cm.Get(t.ctx, "runtime.votequorum.this_node_id")
	if err != nil || v.Type() != cmap.TypeUint32 {
		io.WriteString(t.stderr, "Unable to retrieve this_node_id\n")
		return false
	}
	t.ourID = v.Uint32()
	return true
}

// closeAll closes what initAll opened.
func (t *tool) closeAll() {
	if t.cm != nil {
		t.cm.Close()
	}
	if t.q != nil {
		t.q.Close()
	}
	if t.cf != nil {
		t.cf.Close()
	}
	if t.vq != nil {
		t.vq.Close()
	}
}

// quorumType is get_quorum_type: the provider's name, or ok false when quorum is not
// configured or cmap cannot tell (the name is cut to 255 bytes, as its buffer).
func (t *tool) quorumType() (string, bool) {
	if t.qType == quorum.TypeFree {
		return "", false
	}
	v, err := t.cm.Get(t.ctx, "quorum.provider")
	if err != nil || v.Type() != cmap.TypeString {
		return "", false
	}
	s := v.String()
	if len(s) > 255 {
		s = s[:255]
	}
	return s, true
}

// usingVotequorum is using_votequorum: 1 for votequorum, 0 for another provider, -1
// when there is none. Callers differ on -1, as in the C tool.
func (t *tool) usingVotequorum() int {
	s, ok := t.quorumType()
	switch {
	case !ok:
		return -1
	case s == "corosync_votequorum":
		return 1
	}
	return 0
}

// errNoHandle is what libvotequorum answers for the handle 0 of a tool that did not
// connect to votequorum.
var errNoHandle error = ipc.CSErrBadHandle

func (t *tool) vqTrackStart(flags votequorum.TrackFlags) error {
	if t.vq == nil {
		return errNoHandle
	}
	return t.vq.TrackStart(t.ctx, flags, 0)
}

// quorumDispatchOne waits for one quorum notification (quorum_dispatch with
// CS_DISPATCH_ONE) and records it.
func (t *tool) quorumDispatchOne() error {
	select {
	case ev, ok := <-t.q.Events():
		if !ok {
			return errDispatchClosed
		}
		if n, isQuorum := ev.(quorum.Quorum); isQuorum {
			t.quorate = n.Quorate
			t.ringSeq = n.RingID.Seq
			t.view = append([]uint32(nil), n.Members...)
			t.viewLen = len(n.Members)
			return errCalled
		}
		return nil
	case <-t.ctx.Done():
		return t.ctx.Err()
	}
}

// errCalled marks a dispatch that ran the callback the caller waits for.
var errCalled = errors.New("called")

// vqDispatchOne waits for one votequorum notification; it returns errCalled for a node
// list, whose ring representative it records.
func (t *tool) vqDispatchOne() error {
	if t.vq == nil {
		return errNoHandle
	}
	select {
	case ev, ok := <-t.vq.Events():
		if !ok {
			return errDispatchClosed
		}
		if n, isList := ev.(votequorum.Nodelist); isList {
			t.ringRep = n.RingID.NodeID
			return errCalled
		}
		return nil
	case <-t.ctx.Done():
		return t.ctx.Err()
	}
}

// dispatchUntilCalled runs one dispatch function until its callback ran; the error is
// nil then, or the failure it reported.
func dispatchUntilCalled(dispatch func() error) error {
	for {
		switch err := dispatch(); err {
		case errCalled:
			return nil
		case nil:
		default:
			return err
		}
	}
}

func (t *tool) csText(err error) string { return cserr.Strerror(cserr.Of(err)) }

// showStatus is -s (and no command): 0 when quorate, 2 when not, 1 on errors.
func (t *tool) showStatus() int {
	quorate, err := t.q.Getquorate(t.ctx)
	if err != nil {
		fmt.Fprintf(t.stderr, "Unable to get cluster quorate status: %s\n", t.csText(err))
		return 1
	}
	if err = t.q.TrackStart(t.ctx, quorum.TrackCurrent); err != nil {
		fmt.Fprintf(t.stderr, "Unable to start quorum status tracking: %s\n", t.csText(err))
		return 1
	}
	if err = dispatchUntilCalled(t.quorumDispatchOne); err != nil {
		fmt.Fprintf(t.stderr, "Unable to dispatch quorum status: %s\n", t.csText(err))
	}
	if t.q.TrackStop(t.ctx) != nil {
		// The C tool prints the code of the dispatch, not of the failed stop.
		fmt.Fprintf(t.stderr, "Unable to stop quorum status tracking: %s\n", t.csText(err))
	}
	// using_votequorum's -1 (no provider) counts as true here, as in the C tool.
	if t.usingVotequorum() != 0 {
		if err = t.vqTrackStart(votequorum.TrackCurrent); err != nil {
			fmt.Fprintf(t.stderr, "Unable to start votequorum status tracking: %s\n", t.csText(err))
			return 1
		}
		if err = dispatchUntilCalled(t.vqDispatchOne); err != nil {
			fmt.Fprintf(t.stderr, "Unable to dispatch votequorum status: %s\n", t.csText(err))
		}
	}
	if err != nil {
		return 1
	}
	if t.displayQuorum(quorate) != nil {
		return 1
	}
	if quorate {
		return 0
	}
	return exitNotQuorate
}

// monitor is -m: the status at every change, until an error (the daemon going away).
func (t *tool) monitor() int {
	if t.qType == quorum.TypeFree {
		io.WriteString(t.stdout, "\nQuorum is not configured - cannot monitor\n")
		return t.showStatus()
	}
	if err := t.q.TrackStart(t.ctx, quorum.TrackChanges); err != nil {
		fmt.Fprintf(t.stderr, "Unable to start quorum status tracking: %s\n", t.csText(err))
		return 1
	}
	if t.usingVotequorum() != 0 {
		if err := t.vqTrackStart(votequorum.TrackChanges); err != nil {
			fmt.Fprintf(t.stderr, "Unable to start votequorum status tracking: %s\n", t.csText(err))
			return 1
		}
	}
	for {
		if err := t.quorumDispatchOne(); err != nil && err != errCalled {
			fmt.Fprintf(t.stderr, "Unable to dispatch quorum status: %s\n", t.csText(err))
			return 1
		}
		if t.usingVotequorum() != 0 {
			if err := dispatchUntilCalled(t.vqDispatchOne); err != nil {
				fmt.Fprintf(t.stderr, "Unable to dispatch votequorum status: %s\n", t.csText(err))
				return 1
			}
		}
		err := t.displayQuorum(t.quorate)
		io.WriteString(t.stdout, "\n")
		if err != nil {
			fmt.Fprintf(t.stderr, "Unable to display quorum data: %s\n", t.csText(err))
			return 1
		}
	}
}

// showNodes is -l.
func (t *tool) showNodes() int {
	if err := t.q.TrackStart(t.ctx, quorum.TrackCurrent); err != nil {
		fmt.Fprintf(t.stderr, "Unable to start quorum status tracking: %s\n", t.csText(err))
		return 1
	}
	if err := dispatchUntilCalled(t.quorumDispatchOne); err != nil {
		fmt.Fprintf(t.stderr, "Unable to dispatch quorum status: %s\n", t.csText(err))
		return 1
	}
	t.displayNodes()
	return 0
}

// setVotes is -v [-n].
func (t *tool) setVotes(id, votes uint32) int {
	if err := t.vq.SetVotes(t.ctx, id, votes); err != nil {
		fmt.Fprintf(t.stderr, "Unable to set votes %d for nodeid: %d: %s\n", votes, id, t.csText(err))
		return 1
	}
	return 0
}

// setExpected is -e.
func (t *tool) setExpected(expected uint32) int {
	if err := t.vq.SetExpected(t.ctx, expected); err != nil {
		fmt.Fprintf(t.stderr, "Unable to set expected votes: %s\n", t.csText(err))
		return 1
	}
	return 0
}

// unregisterQdevice is -f: unregister the quorum device the local node has, if any.
func (t *tool) unregisterQdevice() int {
	info, err := t.vq.Info(t.ctx, t.ourID)
	if err != nil {
		fmt.Fprintf(t.stderr, "Unable to get quorum device info: %s\n", t.csText(err))
		return 1
	}
	if info.Flags&votequorum.InfoQdeviceRegistered == 0 {
		return 0
	}
	if err := t.vq.QdeviceUnregister(t.ctx, info.QdeviceName); err != nil {
		fmt.Fprintf(t.stderr, "Unable to unregister quorum device: %s\n", t.csText(err))
		return 1
	}
	return 0
}
