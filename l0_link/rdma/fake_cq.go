package rdma

import (
	"errors"
	"time"
)

// fakeCompletion is a completion on its way to a CQ. sendQP, when set, is the queue pair
// whose send-queue slot the completion frees once polled, as on hardware.
type fakeCompletion struct {
	wc     WorkCompletion
	cq     *fakeCQ
	sendQP *fakeQP
}

type fakeCQ struct {
	f        *FakeFabric
	ctx      *fakeContext
	capacity int
	queue    []fakeCompletion
	users    int  // queue pairs using this CQ
	overrun  bool // more completions than capacity: fatal on hardware
	closed   bool
	// wake has room for one token: a completion arriving while nobody waits is
	// remembered, so Wait never misses it.
	wake chan struct{}
}

// push queues a completion; the fabric lock is held.
func (q *fakeCQ) push(c fakeCompletion) {
	if len(q.queue) >= q.capacity {
		q.overrun = true
		return
	}
	q.queue = append(q.queue, c)
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *fakeCQ) Poll(wc []WorkCompletion) (int, error) {
	q.f.mu.Lock()
	defer q.f.mu.Unlock()
	if q.closed {
		return 0, errFakeClosed
	}
	if q.overrun {
		return 0, errors.New("rdma: fake completion queue overrun")
	}
	n := min(len(wc), len(q.queue))
	for i, c := range q.queue[:n] {
		wc[i] = c.wc
		if c.sendQP != nil {
			c.sendQP.sendsOutstanding--
		}
	}
	q.queue = append(q.queue[:0], q.queue[n:]...)
	return n, nil
}

func (q *fakeCQ) Wait(timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-q.wake:
	case <-t.C:
	}
	return nil
}

func (q *fakeCQ) Close() error {
	q.f.mu.Lock()
	defer q.f.mu.Unlock()
	if q.closed {
		return nil
	}
	if q.users > 0 {
		return errFakeBusy
	}
	q.closed = true
	q.ctx.children--
	q.f.live--
	return nil
}
