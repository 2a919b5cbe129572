package reskit

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/corosync-go/corosync/l4_services/logsys"
)

// State is a resource's state in mon's and wd's state machines.
type State int8

// The states, named as corosync writes them to resources.*.state and logs them.
const (
	Stopped State = iota
	Running
	Failed
)

// String is corosync's name of the state.
func (s State) String() string {
	switch s {
	case Stopped:
		return "stopped"
	case Running:
		return "running"
	case Failed:
		return "failed"
	}
	return fmt.Sprintf("State(%d)", int8(s))
}

// Event is what drives the state machine.
type Event int8

// The events of mon's and wd's tables.
const (
	ConfigChanged Event = iota
	Failure
)

// String is corosync's name of the event.
func (e Event) String() string {
	switch e {
	case ConfigChanged:
		return "config_changed"
	case Failure:
		return "failure"
	}
	return fmt.Sprintf("Event(%d)", int8(e))
}

// entry is one row of the table: a state, an event, whether the row has a handler and the
// states its handler may move to.
type entry struct {
	state   State
	event   Event
	handled bool
	next    []State
}

// table is mon_fsm_table and wd_fsm_table, which are the same rows.
var table = [...]entry{
	{Stopped, ConfigChanged, true, []State{Stopped, Running}},
	{Stopped, Failure, false, nil},
	{Running, ConfigChanged, true, []State{Running, Stopped}},
	{Running, Failure, true, []State{Failed}},
	{Failed, ConfigChanged, true, []State{Running, Stopped}},
	{Failed, Failure, false, nil},
}

// FSM is one resource's state machine (struct cs_fsm). As in corosync, Process picks the
// table row of the current state and the event, and the service's handler for that row
// calls Set; Set logs the change at info level the way mon_fsm_cb and wd_fsm_cb do.
type FSM struct {
	name  string
	log   *slog.Logger
	state State
	entry int // the row Process chose last (curr_entry; 0 at creation)
}

// NewFSM returns a machine in Stopped logging through log (which carries the service's
// subsystem).
func NewFSM(name string, log *slog.Logger) *FSM {
	return &FSM{name: name, log: log}
}

// State is the current state.
func (f *FSM) State() State { return f.state }

// Process selects the row for ev in the current state and reports whether it has a
// handler to run. corosync asserts that it has one and aborts when not (wd can get there:
// a failure while stopped); here the caller skips the event.
func (f *FSM) Process(ev Event) bool {
	for i, e := range table {
		if e.state == f.state && e.event == ev {
			if !e.handled {
				return false
			}
			f.entry = i
			return true
		}
	}
	return false
}

// Set moves to next if the selected row allows it. Staying in the current state is a
// silent no-op. A move the row does not allow is logged at crit level, as corosync logs it
// before exiting, and refused; with mon's and wd's handlers it cannot happen.
func (f *FSM) Set(next State) bool {
	if next == f.state {
		return true
	}
	e := table[f.entry]
	for _, s := range e.next {
		if s == next {
			f.log.Info(fmt.Sprintf("Fsm:%s event \"%s\", state \"%s\" --> \"%s\"", f.name, e.event, e.state, next))
			f.state = next
			return true
		}
	}
	f.log.Log(context.Background(), logsys.LevelCrit, fmt.Sprintf("Fsm:%s Can't change state from \"%s\" to \"%s\" (event was \"%s\")", f.name, e.state, next, e.event))
	return false
}
