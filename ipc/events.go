package ipc

import "context"

// EventPump reads a client's events on one goroutine, decodes them and delivers them in
// order on a channel: the event half of every service client. Its channel is closed when
// the pump is stopped or the server goes away.
type EventPump[T any] struct {
	ch   chan T
	stop context.CancelFunc
	done chan struct{}
}

// StartEvents starts a pump over c's events with a channel of queue entries. decode turns
// one event into a value, or returns false to skip it (an unknown or stale event: the C
// libraries fail their dispatch there; skipping is kinder); it may block until ctx ends.
func StartEvents[T any](c *Client, queue int, decode func(ctx context.Context, msg []byte) (T, bool)) *EventPump[T] {
	ctx, stop := context.WithCancel(context.Background())
	p := &EventPump[T]{ch: make(chan T, queue), stop: stop, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		defer close(p.ch)
		for {
			msg, err := c.Event(ctx)
			if err != nil {
				return
			}
			v, ok := decode(ctx, msg)
			if !ok {
				continue
			}
			select {
			case p.ch <- v:
			case <-ctx.Done():
				return
			}
		}
	}()
	return p
}

// C is the channel of decoded events.
func (p *EventPump[T]) C() <-chan T { return p.ch }

// Stop ends the pump and waits for its goroutine, which must have left the event ring
// before the client unmaps it.
func (p *EventPump[T]) Stop() {
	p.stop()
	<-p.done
}
