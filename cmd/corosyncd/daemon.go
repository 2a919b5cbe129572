package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cmap"
	transport "github.com/corosync-go/corosync/l1_transport"
	evs "github.com/corosync-go/corosync/l3_evs"
	"github.com/corosync-go/corosync/l4_services/cfgsvc"
	"github.com/corosync-go/corosync/l4_services/cmapsvc"
	"github.com/corosync-go/corosync/l4_services/cpgsvc"
	"github.com/corosync-go/corosync/l4_services/executive"
	"github.com/corosync-go/corosync/l4_services/icmap"
	"github.com/corosync-go/corosync/l4_services/logsys"
	"github.com/corosync-go/corosync/l4_services/monsvc"
	"github.com/corosync-go/corosync/l4_services/ploadsvc"
	"github.com/corosync-go/corosync/l4_services/quorumsvc"
	"github.com/corosync-go/corosync/l4_services/rtkeys"
	"github.com/corosync-go/corosync/l4_services/votequorum"
	"github.com/corosync-go/corosync/l4_services/wdsvc"
)

// Version is the corosync release this daemon is compatible with, and our build of it.
const Version = "3.1.7"

// Exit statuses, corosync's (exec/main.h: COROSYNC_...).
const (
	exitOK          = 0
	exitConfigError = 8
	exitKilled      = 15 // corosync_fatal_error(COROSYNC_FATAL_ERROR_EXIT) after a kill
	exitRuntime     = 1
	exitForkFailed  = 4  // COROSYNC_DONE_FORK
	exitStdToNull   = 19 // COROSYNC_DONE_STD_TO_NULL_REDIR
)

// stopReason says why the daemon stops.
type stopReason int

const (
	stopSignal stopReason = iota + 1
	stopShutdown
	stopKilled
	stopPload // the pload engine's load is done (corosync exits with 99)
)

// sub returns the daemon's logger for a corosync subsystem ("MAIN", "TOTEM", ...).
func (d *daemon) sub(name string) *slog.Logger { return d.log.With(logsys.SubsysKey, name) }

// cmapEngine gives cmap its place among the engines (service id 0, corosync's name). The
// map is local to each node, so it has no ordered messages of its own.
type cmapEngine struct{}

func (cmapEngine) ID() uint16   { return 0 }
func (cmapEngine) Name() string { return "corosync configuration map access" }

// services are the engines this daemon loads, as corosync names them in cmap.
var loadedServices = []rtkeys.Service{{ID: 0, Short: "cmap", MsgIDs: 1}, {ID: 1, Short: "cfg", MsgIDs: 5}, cpgService, ploadService}

// daemon is one running corosyncd.
type daemon struct {
	log  *slog.Logger
	logs *logOutput
	conf *loaded
	m    *icmap.Map
	set  *transport.Settings
	tr   *transport.Transport
	// crypto is the crypto in use and a change in progress (ring goroutine only).
	crypto cryptoState
	x      *executive.Executive
	srv    *ipc.Server
	cmap   *cmapsvc.Service
	cfg    *cfgsvc.Service
	cpg    *cpgsvc.Service
	pload  *ploadsvc.Engine
	stats  *statsSource
	res    *resEngines  // mon and wd (resources.go)
	quorum *quorumParts // quorum and votequorum (quorumlive.go)
	// totem is the ring's configuration at start; nodes is the node list in force, which
	// a reload may change.
	totem evs.TotemConfig
	nodes atomic.Pointer[[]transport.Node]
	sched *schedMonitor

	// ipcStop ends the IPC services; ipcDone counts them until their connections (and
	// their /dev/shm files) are gone.
	ipcStop context.CancelFunc
	ipcDone sync.WaitGroup

	// unloading is set by a graceful stop, whose engines are unloaded with corosync's
	// log lines (a kill exits without them, as in corosync).
	unloading bool

	stopOnce sync.Once
	stopCh   chan stopReason
	sendBuf  []transport.Packet
}

// run starts the daemon and blocks until it stops; it returns the exit status.
func run(ctx context.Context, confPath string, explicit bool, logs *logOutput) int {
	d := &daemon{logs: logs, log: logs.logger, stopCh: make(chan stopReason, 1)}
	mainLog := d.sub("MAIN")
	mainLog.Log(ctx, levelNotice, "Corosync Cluster Engine "+Version+" starting up")
	mainLog.Info("Corosync built-in features: monitoring watchdog systemd pie (Go: knet-compatible transport over udp, xdp, rdma)")
	if err := d.start(ctx, confPath, explicit); err != nil {
		code := exitConfigError
		if msg, ok := configError(err); ok {
			code = exitLogConfigError
			mainLog.Error(msg)
		} else {
			mainLog.Error(err.Error())
		}
		mainLog.Error(fmt.Sprintf("Corosync Cluster Engine exiting with status %d.", code))
		d.close()
		return code
	}
	reason := d.wait(ctx)
	code := exitOK
	switch reason {
	case stopKilled:
		code = exitKilled
	case stopPload:
		code = ploadsvc.ExitStatus // no leave: corosync exits "the hard way"
	default:
		d.leave()
	}
	d.close()
	if code == exitOK {
		mainLog.Log(ctx, levelNotice, "Corosync Cluster Engine exiting normally")
	} else {
		mainLog.Error(fmt.Sprintf("Corosync Cluster Engine exiting with status %d.", code))
	}
	return code
}

func (d *daemon) requestStop(r stopReason) {
	d.stopOnce.Do(func() { d.stopCh <- r })
}

// start loads the configuration and starts every part; an error means a configuration or
// set-up problem (exit status 8).
func (d *daemon) start(ctx context.Context, confPath string, explicit bool) error {
	conf, err := load(ctx, confPath, explicit)
	if err != nil {
		return fmt.Errorf("parse error in config: %w", err)
	}
	d.conf = conf
	if conf.path == "" {
		d.sub("MAIN").Log(ctx, levelNotice, "No configuration file: running on the embedded default (one node on 127.0.0.1)", "state_dir", conf.stateDir)
	}
	d.m = icmap.New()
	if err := conf.fill(d.m); err != nil {
		return fmt.Errorf("parse error in config: %w", err)
	}
	if err := d.logs.configure(text(d.m)); err != nil {
		return err
	}
	d.trackLogging(ctx)
	if os.Getenv(detachedEnv) == "1" {
		os.Unsetenv(detachedEnv) // not for the processes this one starts
		d.sub("MAIN").Debug("Corosync TTY detached")
	}
	keys := text(d.m)
	switch keys["totem.transport"] {
	case "", "knet", "udpu", "udp":
	default:
		return fmt.Errorf("parse error in config: unknown transport %q", keys["totem.transport"])
	}
	d.set, err = transport.FromKeys(keys, transport.NodeID(conf.nodeID), transport.LookupHost)
	if err != nil {
		return err
	}
	d.nodes.Store(&d.set.Config.Nodes)
	if t := keys["totem.transport"]; t == "udpu" || t == "udp" {
		// corosync 3.1.7 has no encryption on udp and udpu.
		d.set.Config.Crypto = transport.CryptoConfig{Cipher: "none", Hash: "none"}
	}

	plan, err := planScheduling(keys)
	if err != nil {
		return err
	}
	realtime := applyScheduling(plan, linuxSched{}, d.sub("MAIN"))
	if realtime {
		oneProcessor(d.sub("MAIN"))
	}

	seqs := newRingSeqStore(conf.stateDir, conf.nodeID)
	seq, err := seqs.load()
	if err != nil {
		return fmt.Errorf("cannot read the ring sequence: %w", err)
	}
	d.cfg = cfgsvc.New(cfgsvc.Config{NodeID: conf.nodeID, Map: d.m, Host: (*cfgHost)(d), Log: d.log})
	d.totem = totemConfig(d.m, conf.nodeID)
	if err := d.totem.Validate(); err != nil {
		return fmt.Errorf("parse error in config: %w", err)
	}
	d.res = d.newResources(ctx)
	if err := d.newQuorum(); err != nil {
		return err
	}
	d.cpg = d.newCPG()
	d.pload = ploadsvc.New(ploadsvc.Config{Map: d.m, Log: d.log, Exit: func(int) { d.requestStop(stopPload) }})
	d.x, err = executive.New(executive.Config{
		Totem:        d.totem,
		RingSeq:      seq,
		StoreRingSeq: seqs.store,
		Send:         d.send,
		Log:          d.log,
	}, append(append([]executive.Engine{cmapEngine{}, d.cfg, d.cpg, d.pload}, d.quorumEngines()...), d.res.engines()...)...)
	if err != nil {
		return err
	}
	d.cfg.Bind(d.x.Endpoint(cfgsvc.ServiceID))
	d.cpg.Bind(d.x.Endpoint(cpgsvc.ServiceID))
	d.pload.Bind(d.x.Endpoint(ploadsvc.ServiceID))
	d.x.Watch(rtkeys.NewMembers(d.m, d.log, d.memberAddrs, d.configVersion()))
	rtkeys.PublishStatic(d.m, d.services())
	rtkeys.ProtectReadOnly(d.m)

	d.sub("TOTEM").Log(ctx, levelNotice, transportBanner(keys["totem.transport"]))
	d.tr, err = transport.Start(ctx, d.set, func(from transport.NodeID, pkt []byte) { d.x.Receive(evs.NodeID(from), pkt) }, d.sub("KNET"))
	if err != nil {
		return fmt.Errorf("cannot start the transport: %w", err)
	}
	d.initCrypto()
	for _, ifs := range d.set.Interfaces {
		d.sub("TOTEM").Info(fmt.Sprintf("Configured link number %d: local addr: %s, port=%d", ifs.Number, ifs.Local.Addr(), ifs.Port))
	}

	d.sched = newSchedMonitor(d.tokenTimeout, d.x.LoopStall, d.sub("MAIN"))
	go d.sched.run(ctx)
	d.stats = &statsSource{d: d}
	d.cmap = cmapsvc.New(cmapsvc.Config{Map: d.m, Stats: d.stats, Log: d.log})
	d.srv = ipc.NewServer(ipc.Config{
		Authorize:          d.authorize(),
		Transport:          keys["system.qb_ipc_type"],
		ConnectionsChanged: d.cmap.StatsKeysChanged,
		RequestSpin:        requestSpin(realtime),
		Log:                d.sub("QB"),
	})
	if n := d.srv.RemoveStale("cmap", "cfg", cpgsvc.IPCName, "quorum", "votequorum"); n > 0 {
		d.sub("MAIN").Info(fmt.Sprintf("removed %d stale IPC directories of dead daemons", n))
	}
	ipcCtx, ipcStop := context.WithCancel(ctx)
	d.ipcStop = ipcStop
	if err := d.serveIPC(ctx, ipcCtx, glue(d.cmap, d.x), glue(d.cfg.IPC(), d.x), glue(d.cpg.IPC(), d.x)); err != nil {
		return err
	}
	// pload comes after cpg in corosync's list of engines; it has no IPC.
	if err := d.pload.Start(ctx); err != nil {
		return err
	}
	d.sub("SERV").Log(ctx, levelNotice, fmt.Sprintf("Service engine loaded: %s [%d]", ploadsvc.Name, ploadsvc.ServiceID))
	if err := d.initResources(ctx); err != nil {
		return err
	}
	if err := d.startQuorum(ctx, ipcCtx); err != nil {
		return err
	}
	go func() {
		err := d.x.Run(ctx)
		if err != nil && !errors.Is(err, context.Canceled) {
			d.log.Error("the ring stopped", "err", err)
		}
	}()
	go d.publishCounters(ctx)
	go d.watchRingHealth(ctx)
	d.trackTotem(ctx)
	d.trackForceGather(ctx)
	go func() {
		select {
		case <-d.x.Ready():
			if err := sdNotify("READY=1"); err != nil {
				d.log.Warn("sd_notify failed", "err", err)
			}
		case <-ctx.Done():
		}
	}()
	return nil
}

// serveIPC listens for each service's clients and serves them until ipcCtx ends, logging
// each engine as loaded, in order.
func (d *daemon) serveIPC(ctx, ipcCtx context.Context, svcs ...ipc.Service) error {
	for _, svc := range svcs {
		ln, err := d.srv.Listen(svc)
		if err != nil {
			return fmt.Errorf("cannot listen for IPC on %s: %w", svc.Name(), err)
		}
		d.ipcDone.Add(1)
		go func() {
			defer d.ipcDone.Done()
			d.srv.ServeOn(ipcCtx, ln, svc)
		}()
		d.sub("SERV").Log(ctx, levelNotice, "Service engine loaded: "+serviceLongName(svc.Name()))
	}
	return nil
}

func serviceLongName(ipcName string) string {
	switch ipcName {
	case "cmap":
		return "corosync configuration map access [0]"
	case "cfg":
		return "corosync configuration service [1]"
	case cpgsvc.IPCName:
		return cpgsvc.Name + " [2]"
	case "votequorum":
		return votequorum.Name + " [5]"
	case "quorum":
		return quorumsvc.Name + " [3]"
	}
	return ipcName
}

// trackLogging applies changes of logging.* keys made at run time (corosync-cmapctl -s
// logging.debug str on), as corosync's logconfig does.
func (d *daemon) trackLogging(ctx context.Context) {
	d.onChange(ctx, "logging.", icmap.Add|icmap.Modify|icmap.Delete|icmap.Prefix, func() {
		if err := d.logs.configure(text(d.m)); err != nil {
			d.sub("MAIN").Error("logging configuration refused: " + err.Error())
		}
	})
}

// wait blocks until a signal, a cfg shutdown or a kill.
func (d *daemon) wait(ctx context.Context) stopReason {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	select {
	case <-sigs:
		d.sub("MAIN").Log(ctx, levelNotice, "Node was shut down by a signal")
		return stopSignal
	case r := <-d.stopCh:
		return r
	case <-ctx.Done():
		return stopSignal
	}
}

// leave leaves the ring so that the others reconfigure at once.
func (d *daemon) leave() {
	d.sub("SERV").Log(context.Background(), levelNotice, "Unloading all Corosync service engines.")
	d.unloading = true
	if d.x == nil {
		return
	}
	d.leaveQuorum()
	d.x.Leave()
	select {
	case <-d.x.Done(): // the leave has been sent
	case <-time.After(2 * time.Second):
		d.log.Warn("the ring did not stop within 2 s of the leave")
	}
}

func (d *daemon) close() {
	if d.ipcStop != nil {
		// Disconnect the clients so that their files in /dev/shm go with us.
		d.ipcStop()
		done := make(chan struct{})
		go func() { d.ipcDone.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			d.log.Warn("IPC connections still closing at exit")
		}
	}
	d.res.close()
	if d.unloading {
		d.logUnloaded()
	}
	if d.cmap != nil {
		d.cmap.Close()
	}
	if d.tr != nil {
		d.tr.Close()
	}
}

// logUnloaded logs corosync's lines for each engine once its IPC sockets are withdrawn,
// in 3.1.7's order among the engines this daemon has.
func (d *daemon) logUnloaded() {
	ctx := context.Background()
	type unloaded = struct {
		name string
		ipc  bool
	}
	var list []unloaded
	first, later := d.quorumUnloaded()
	for _, n := range first {
		list = append(list, unloaded{n, true})
	}
	list = append(list, unloaded{"corosync configuration map access", true}, unloaded{"corosync configuration service", true}, unloaded{cpgsvc.Name, true})
	for _, n := range later {
		list = append(list, unloaded{n, true})
	}
	list = append(list, unloaded{ploadsvc.Name, false}, unloaded{monsvc.Name, false}, unloaded{wdsvc.Name, false})
	for _, e := range list {
		if e.ipc {
			d.sub("QB").Info("withdrawing server sockets")
		}
		d.sub("SERV").Log(ctx, levelNotice, "Service engine unloaded: "+e.name)
	}
}

// send hands the ring's packets to the transport.
func (d *daemon) send(pkts []evs.Packet) error {
	d.sendBuf = d.sendBuf[:0]
	for _, p := range pkts {
		d.sendBuf = append(d.sendBuf, transport.Packet{To: transport.NodeID(p.To), Data: p.Data})
	}
	if d.tr == nil {
		return nil
	}
	return d.tr.Send(d.sendBuf)
}

func (d *daemon) configVersion() uint64 {
	if v, err := d.m.Get("totem.config_version"); err == nil && v.Type() == cmap.TypeUint64 {
		return v.Uint64()
	}
	return 0
}

// memberAddrs are a node's configured addresses by link, for runtime.members.<id>.ip.
func (d *daemon) memberAddrs(id uint32) []string {
	for _, n := range d.nodeTable() {
		if uint32(n.ID) != id {
			continue
		}
		var out []string
		for _, a := range n.Addrs {
			out = append(out, addrOnly(a))
		}
		for len(out) > 0 && out[len(out)-1] == "" {
			out = out[:len(out)-1]
		}
		return out
	}
	return nil
}

// authorize is corosync's IPC rule (root, or the uidgid keys), plus the daemon's own user
// so that a daemon run unprivileged serves its own tools.
func (d *daemon) authorize() func(ipc.Creds) bool {
	rule := ipc.UIDGIDRule(func(key string) (uint8, bool) {
		v, err := d.m.Get(key)
		if err != nil || v.Type() != cmap.TypeUint8 {
			return 0, false
		}
		return v.Uint8(), true
	})
	self := uint32(os.Geteuid())
	return func(c ipc.Creds) bool { return c.UID == self || rule(c) }
}

// publishCounters copies the per-message counters into runtime.services.* every second.
func (d *daemon) publishCounters(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if counters, err := d.x.Counters(ctx); err == nil {
				rtkeys.PublishCounters(d.m, d.services(), counters)
			}
		}
	}
}

// nodeIDs are the node table's ids, sorted.
func (d *daemon) nodeIDs() []uint32 {
	var ids []uint32
	for _, n := range d.nodeTable() {
		ids = append(ids, uint32(n.ID))
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

func addrOnly(ap netip.AddrPort) string {
	if !ap.IsValid() {
		return ""
	}
	return ap.Addr().String()
}

// ploadService is the pload engine's entry in loadedServices: runtime.services.pload.*
// with its two exec message ids (start, mcast).
var ploadService = rtkeys.Service{ID: ploadsvc.ServiceID, Short: "pload", MsgIDs: 2}
