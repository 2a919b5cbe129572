package main

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/corosync-go/corosync/cmd/internal/cserr"
	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/votequorum"
)

// dateLayout is ctime(3)'s format, newline included.
const dateLayout = "Mon Jan _2 15:04:05 2006\n"

// displayQuorum is display_quorum_data: the quorum header, and with votequorum its
// information and the membership. It returns the local node's GETINFO error, which
// makes -s fail (CS_ERR_NOT_EXIST included, though the information is printed then).
func (t *tool) displayQuorum(quorate bool) error {
	w := t.stdout
	io.WriteString(w, "Quorum information\n------------------\n")
	io.WriteString(w, "Date:             "+t.d.now().Format(dateLayout))
	qt, ok := t.quorumType()
	if !ok {
		qt = "Not configured"
	}
	fmt.Fprintf(w, "Quorum provider:  %s\n", qt)
	fmt.Fprintf(w, "Nodes:            %d\n", int32(t.viewLen))
	fmt.Fprintf(w, "Node ID:          %s\n", formatID(t.ourID, t.o.hexIDs))
	if t.vq != nil {
		fmt.Fprintf(w, "Ring ID:          %x.%x\n", t.ringRep, t.ringSeq)
	} else {
		fmt.Fprintf(w, "Ring ID:          %x\n", t.ringSeq)
	}
	fmt.Fprintf(w, "Quorate:          %s\n", yesNo(quorate))
	if t.vq == nil {
		return nil
	}
	info, err := t.vq.Info(t.ctx, t.ourID)
	if cs := cserr.Of(err); cs == ipc.CSOk || cs == ipc.CSErrNotExist {
		writeVotequorum(w, info)
	} else {
		fmt.Fprintf(t.stderr, "Unable to get node info: %s\n", t.csText(err))
	}
	t.displayNodes()
	return err
}

func yesNo(b bool) string {
	if b {
		return "Yes"
	}
	return "No"
}

// formatID is a node id as the Node ID: line shows it.
func formatID(id uint32, hex bool) string {
	if hex {
		return fmt.Sprintf("0x%08x", id)
	}
	return strconv.FormatUint(uint64(id), 10)
}

// flagWords are the Flags: line's words, in the C tool's order.
var flagWords = []struct {
	f    votequorum.InfoFlags
	word string
}{
	{votequorum.InfoTwoNode, "2Node"}, {votequorum.InfoQuorate, "Quorate"},
	{votequorum.InfoWaitForAll, "WaitForAll"}, {votequorum.InfoLastManStanding, "LastManStanding"},
	{votequorum.InfoAutoTieBreaker, "AutoTieBreaker"}, {votequorum.InfoAllowDownscale, "AllowDownscale"},
	{votequorum.InfoQdeviceRegistered, "Qdevice"},
}

// writeVotequorum prints the votequorum section of -s for the local node's information.
func writeVotequorum(w io.Writer, info votequorum.Info) {
	io.WriteString(w, "\nVotequorum information\n----------------------\n")
	fmt.Fprintf(w, "Expected votes:   %d\n", int32(info.ExpectedVotes))
	fmt.Fprintf(w, "Highest expected: %d\n", int32(info.HighestExpected))
	fmt.Fprintf(w, "Total votes:      %d\n", int32(info.TotalVotes))
	blocked := "Activity blocked"
	if info.Flags&votequorum.InfoQuorate != 0 {
		blocked = " "
	}
	fmt.Fprintf(w, "Quorum:           %d %s\n", int32(info.Quorum), blocked)
	var b strings.Builder
	b.WriteString("Flags:            ")
	for _, f := range flagWords {
		if info.Flags&f.f != 0 {
			b.WriteString(f.word + " ")
		}
	}
	b.WriteString("\n")
	io.WriteString(w, b.String())
}

// padded is print_string_padded: s right-aligned in 10 columns, and a space.
func padded(s string) string {
	if len(s) < 10 {
		s = strings.Repeat(" ", 10-len(s)) + s
	}
	return s + " "
}

// member is one node of the membership list with its display name.
type member struct {
	id   uint32
	name string
}

// displayNodes is display_nodes_data: each member's votequorum information and name,
// then the list, in the order asked for; the view is consumed.
func (t *tool) displayNodes() {
	infos := make([]votequorum.Info, len(t.view))
	if t.vq != nil {
		for i, id := range t.view {
			info, err := t.vq.Info(t.ctx, id)
			if err != nil {
				// The C tool then shows whatever its stack held; we show zeros.
				fmt.Fprintf(t.stdout, "Unable to get node %d info\n", id)
				info = votequorum.Info{}
			}
			infos[i] = info
		}
	}
	members := make([]member, len(t.view))
	for i, id := range t.view {
		members[i] = member{id: id, name: t.nodeName(id)}
	}
	writeMembers(t.stdout, t.o, members, infos, t.vq != nil, t.ourID)
	t.view = nil
}

// sortMembers orders the list as -o asks (the daemon's order, by address, for a).
func sortMembers(m []member, s sortType) {
	switch s {
	case sortNodeID:
		sort.SliceStable(m, func(i, j int) bool { return m[i].id < m[j].id })
	case sortNodeName:
		sort.SliceStable(m, func(i, j int) bool { return m[i].name < m[j].name })
	}
}

// writeMembers prints the membership section. infos are the members' votequorum
// information in the daemon's order; members are sorted here, and row i shows infos[i]
// whatever member it lands on, as corosync-quorumtool 3.1.7 does (its -o i and -o n
// pair votes and quorum device states with the wrong nodes when the order changes).
func writeMembers(w io.Writer, o options, members []member, infos []votequorum.Info, haveVQ bool, ourID uint32) {
	qdevice := false
	for _, info := range infos {
		if info.Flags&votequorum.InfoQdeviceRegistered != 0 {
			qdevice = true
		}
	}
	var b strings.Builder
	b.WriteString("\nMembership information\n----------------------\n")
	b.WriteString(padded("Nodeid"))
	if haveVQ {
		b.WriteString(padded("Votes"))
		if qdevice || o.parsable {
			b.WriteString(padded("Qdevice"))
		}
	}
	b.WriteString("Name\n")
	sortMembers(members, o.sort)
	var ourFlags votequorum.InfoFlags
	for i, m := range members {
		b.WriteString(rowID(m.id, o.hexIDs))
		if haveVQ {
			b.WriteString(padded(strconv.FormatUint(uint64(infos[i].Votes), 10)))
			if qdevice || o.parsable {
				b.WriteString(padded(qdeviceState(infos[i].Flags)))
			}
		}
		b.WriteString(m.name)
		if m.id == ourID {
			b.WriteString(" (local)")
			if haveVQ {
				ourFlags = infos[i].Flags
			}
		}
		b.WriteString("\n")
	}
	if qdevice {
		b.WriteString(rowID(votequorum.QdeviceNodeID, o.hexIDs))
		votes := infos[0].QdeviceVotes
		if ourFlags&votequorum.InfoQdeviceCastVote == 0 {
			votes = 0
		}
		b.WriteString(padded(strconv.FormatUint(uint64(votes), 10)))
		b.WriteString("           " + infos[0].QdeviceName)
		if ourFlags&votequorum.InfoQdeviceCastVote != 0 {
			b.WriteString("\n")
		} else {
			fmt.Fprintf(&b, " (votes %d)\n", int32(infos[0].QdeviceVotes))
		}
	}
	io.WriteString(w, b.String())
}

// rowID is a node id in the first column.
func rowID(id uint32, hex bool) string {
	if hex {
		return fmt.Sprintf("0x%08x ", id)
	}
	return padded(strconv.FormatUint(uint64(id), 10))
}

// qdeviceState is the Qdevice column: NR (not registered) or alive, vote and master
// wins states.
func qdeviceState(f votequorum.InfoFlags) string {
	if f&votequorum.InfoQdeviceRegistered == 0 {
		return "NR"
	}
	pick := func(bit votequorum.InfoFlags, yes, no string) string {
		if f&bit != 0 {
			return yes
		}
		return no
	}
	return pick(votequorum.InfoQdeviceAlive, "A", "NA") + "," + pick(votequorum.InfoQdeviceCastVote, "V", "NV") + "," +
		pick(votequorum.InfoQdeviceMasterWins, "MW", "NMW")
}
