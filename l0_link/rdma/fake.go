package rdma

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"syscall"
)

// FakeFabric is a Verbs backend that simulates RDMA devices joined by one lossless switch,
// for tests and simulations on machines without RDMA hardware. A UD send is delivered at
// once into a receive buffer the destination queue pair has posted, with a GRH in front as
// hardware writes it; with no buffer posted the datagram is dropped, as UD does (counted in
// FakeDrops.NoRecvBuffer). Faults are injected per device with FailSends and
// HoldSendCompletions.
//
// The fake is strict where a mistake on real hardware would be silent or fatal: queue
// depths and completion-queue capacity are enforced, buffers must lie inside registered
// memory, and objects cannot be closed while others still use them.
type FakeFabric struct {
	mu      sync.Mutex
	devices map[string]*fakeDevice
	nextQPN uint32
	live    int // objects created and not yet closed, for leak checks
	drops   FakeDrops
}

// FakeDrops counts datagrams the fake fabric dropped on the receiving side.
type FakeDrops struct {
	// NoRecvBuffer counts datagrams that found no posted receive buffer (on a reliable
	// transport this would be a receiver-not-ready NAK; UD just drops).
	NoRecvBuffer uint64
	// NoDestination counts datagrams to an unknown GID or QPN, a queue pair not yet
	// ready to receive, or with the wrong QKey.
	NoDestination uint64
}

type fakeDevice struct {
	name     string
	gids     []GIDEntry
	mtuBytes int
	qps      map[uint32]*fakeQP
	// failSends makes the next failSends sends complete with failStatus, undelivered.
	failSends  int
	failStatus WCStatus
	// holdSends keeps send completions back until HoldSendCompletions(false).
	holdSends bool
	held      []fakeCompletion
}

// addrGID is the device's address GID. Each fake port's GID table mimics a RoCE port's:
// the link-local GID and then the address GID, each once per RoCE version, v1 first, so
// that a link picking the first match instead of the RoCE v2 entry is caught.
func (d *fakeDevice) addrGID() GID { return d.gids[2].GID }

// NewFakeFabric returns a fabric without devices.
func NewFakeFabric() *FakeFabric {
	return &FakeFabric{devices: map[string]*fakeDevice{}, nextQPN: 0x100}
}

// AddDevice plugs in a one-port device called name whose RoCE interface has address addr
// and whose port carries UD messages of up to mtuBytes.
func (f *FakeFabric) AddDevice(name string, addr netip.Addr, mtuBytes int) error {
	if !addr.IsValid() || mtuBytes < frameHeaderBytes {
		return fmt.Errorf("rdma: fake device %q needs an address and an MTU", name)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.devices[name]; ok {
		return fmt.Errorf("rdma: fake device %q already exists", name)
	}
	gid := GIDFromAddr(addr)
	for _, d := range f.devices {
		if d.addrGID() == gid {
			return fmt.Errorf("rdma: fake address %s already used by %q", addr, d.name)
		}
	}
	linkLocal := GID{0: 0xfe, 1: 0x80, 15: byte(len(f.devices) + 1)}
	f.devices[name] = &fakeDevice{
		name: name,
		gids: []GIDEntry{
			{GID: linkLocal, Type: "IB/RoCE v1"},
			{GID: linkLocal, Type: GIDTypeRoCEv2},
			{GID: gid, Type: "IB/RoCE v1"},
			{GID: gid, Type: GIDTypeRoCEv2},
		},
		mtuBytes: mtuBytes,
		qps:      map[uint32]*fakeQP{},
	}
	return nil
}

// FailSends makes the next n sends posted on device complete with status instead of
// being delivered, as a cable pulled or a bad address handle would.
func (f *FakeFabric) FailSends(device string, n int, status WCStatus) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d := f.devices[device]; d != nil {
		d.failSends, d.failStatus = n, status
	}
}

// HoldSendCompletions stops (hold) or resumes the send completions of device, to model
// a device that is slow to report finished sends. Delivery itself is not delayed.
func (f *FakeFabric) HoldSendCompletions(device string, hold bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := f.devices[device]
	if d == nil {
		return
	}
	d.holdSends = hold
	if !hold {
		for _, c := range d.held {
			c.cq.push(c)
		}
		d.held = nil
	}
}

// Drops returns the fabric's drop counters.
func (f *FakeFabric) Drops() FakeDrops {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.drops
}

// LiveObjects counts contexts, domains, memory regions, queues and handles not yet
// closed; a user that cleans up leaves 0.
func (f *FakeFabric) LiveObjects() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.live
}

// OpenDevice implements Verbs.
func (f *FakeFabric) OpenDevice(name string) (Context, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := f.devices[name]
	if d == nil {
		return nil, fmt.Errorf("rdma: fake device %q: %w", name, ErrNoDevice)
	}
	f.live++
	return &fakeContext{f: f, dev: d}, nil
}

// errFakeBusy is what verbs return (EBUSY) when a parent object is destroyed before its
// children.
var errFakeBusy = fmt.Errorf("rdma: fake object still in use: %w", syscall.EBUSY)

// errFakeClosed is returned for use of an object after Close.
var errFakeClosed = errors.New("rdma: fake object used after close")

type fakeContext struct {
	f        *FakeFabric
	dev      *fakeDevice
	children int
	closed   bool
}

func (c *fakeContext) QueryPort(port uint8) (PortInfo, error) {
	if port != 1 {
		return PortInfo{}, fmt.Errorf("rdma: fake device %q has no port %d: %w", c.dev.name, port, syscall.EINVAL)
	}
	return PortInfo{Active: true, ActiveMTUBytes: c.dev.mtuBytes, GIDTableLen: len(c.dev.gids)}, nil
}

func (c *fakeContext) QueryGID(port uint8, index int) (GIDEntry, error) {
	if port != 1 || index < 0 || index >= len(c.dev.gids) {
		return GIDEntry{}, fmt.Errorf("rdma: fake device %q: no GID %d on port %d: %w", c.dev.name, index, port, syscall.EINVAL)
	}
	return c.dev.gids[index], nil
}

func (c *fakeContext) AllocPD() (ProtectionDomain, error) {
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	if c.closed {
		return nil, errFakeClosed
	}
	c.children++
	c.f.live++
	return &fakePD{f: c.f, ctx: c}, nil
}

func (c *fakeContext) CreateCQ(entries int) (CompletionQueue, error) {
	if entries <= 0 {
		return nil, fmt.Errorf("rdma: fake CQ of %d entries: %w", entries, syscall.EINVAL)
	}
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	if c.closed {
		return nil, errFakeClosed
	}
	c.children++
	c.f.live++
	return &fakeCQ{f: c.f, ctx: c, capacity: entries, wake: make(chan struct{}, 1)}, nil
}

func (c *fakeContext) Close() error {
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	if c.closed {
		return nil
	}
	if c.children > 0 {
		return errFakeBusy
	}
	c.closed = true
	c.f.live--
	return nil
}

type fakePD struct {
	f        *FakeFabric
	ctx      *fakeContext
	children int
	closed   bool
}

func (p *fakePD) AllocMemory(bytes int) (MemoryRegion, error) {
	if bytes <= 0 {
		return nil, fmt.Errorf("rdma: fake memory region of %d bytes: %w", bytes, syscall.EINVAL)
	}
	p.f.mu.Lock()
	defer p.f.mu.Unlock()
	if p.closed {
		return nil, errFakeClosed
	}
	p.children++
	p.f.live++
	return &fakeMR{pd: p, buf: make([]byte, bytes)}, nil
}

func (p *fakePD) CreateAH(cfg AHConfig) (AddressHandle, error) {
	p.f.mu.Lock()
	defer p.f.mu.Unlock()
	if p.closed {
		return nil, errFakeClosed
	}
	if cfg.Port != 1 || cfg.SGIDIndex < 0 || cfg.SGIDIndex >= len(p.ctx.dev.gids) {
		return nil, fmt.Errorf("rdma: fake AH: port %d, GID index %d: %w", cfg.Port, cfg.SGIDIndex, syscall.EINVAL)
	}
	p.children++
	p.f.live++
	return &fakeAH{pd: p, cfg: cfg}, nil
}

func (p *fakePD) Close() error {
	p.f.mu.Lock()
	defer p.f.mu.Unlock()
	if p.closed {
		return nil
	}
	if p.children > 0 {
		return errFakeBusy
	}
	p.closed = true
	p.ctx.children--
	p.f.live--
	return nil
}

type fakeMR struct {
	pd     *fakePD
	buf    []byte
	closed bool
}

func (m *fakeMR) Bytes() []byte { return m.buf }

func (m *fakeMR) Close() error {
	f := m.pd.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	m.pd.children--
	f.live--
	return nil
}
