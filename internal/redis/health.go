package redis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/insieme/insieme/internal/realtime"
)

// receiveLoop reads the pub/sub connection: room events and reset messages, and the answers to
// pub/sub pings. go-redis reconnects the connection (and resubscribes) on its own; any error
// means messages may have been lost, so the node goes down until the health check recovers it.
func (b *Broker) receiveLoop() {
	defer b.wg.Done()
	for b.ctx.Err() == nil {
		msg, err := b.ps.ReceiveTimeout(b.ctx, b.opts.HealthInterval)
		if err != nil {
			if b.ctx.Err() != nil {
				return
			}
			if isTimeout(err) {
				continue // idle
			}
			b.markDown("receive", err)
			sleepCtx(b.ctx, min(b.opts.HealthInterval, 200*time.Millisecond))
			continue
		}
		switch m := msg.(type) {
		case *goredis.Message:
			b.received.Add(1)
			b.handle(m)
		case *goredis.Pong:
			b.wake(m.Payload)
		}
	}
}

// handle delivers an event ("e<epoch> <seq> <data>") or resets a room ("r<node>").
func (b *Broker) handle(m *goredis.Message) {
	room, ok := strings.CutPrefix(m.Channel, b.opts.Prefix+"ch:")
	// While down the node serves its rooms from local epochs; Redis events would interleave
	// with them. Recovery resets every room instead.
	if !ok || m.Payload == "" || !b.up.Load() || !b.serves(room) {
		return
	}
	switch body := m.Payload[1:]; m.Payload[0] {
	case 'e':
		epoch, rest, _ := strings.Cut(body, " ")
		seqStr, data, _ := strings.Cut(rest, " ")
		seq, err := strconv.ParseUint(seqStr, 10, 64)
		if err != nil {
			b.log.Error("redis broker: malformed event", "channel", m.Channel)
			return
		}
		(*b.deliver.Load())(realtime.Event{Room: room, Epoch: epoch, Seq: seq, Data: []byte(data)})
	case 'r':
		if body != b.node {
			(*b.reset.Load())(room)
		}
	}
}

func (b *Broker) healthLoop() {
	defer b.wg.Done()
	t := time.NewTicker(b.opts.HealthInterval)
	defer t.Stop()
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-t.C:
			b.check()
		}
	}
}

// check pings Redis through the pub/sub connection, which proves both Redis and the receive
// loop work; a down broker that passes recovers.
func (b *Broker) check() {
	if err := b.pubsubPing(b.ctx); err != nil {
		if b.ctx.Err() == nil { // not an outage: the broker is closing
			b.markDown("health check", err)
		}
		return
	}
	if !b.up.Load() {
		if err := b.recover(); err != nil && b.ctx.Err() == nil {
			b.markDown("recovery", err)
			b.log.Debug("redis broker: recovery failed", "err", err)
		}
	}
}

// recover brings a down broker back: resubscribe every room this node serves (and wait until
// Redis took the subscriptions), go up, start a new epoch for each room unless another node
// did since this one reconnected (the outage's local events are not in the shared history),
// and reset each room so its local clients take a fresh snapshot.
func (b *Broker) recover() error {
	ctx, cancel := context.WithTimeout(b.ctx, 4*b.opts.Timeout)
	defer cancel()

	b.subMu.Lock()
	if len(b.unsubLate) > 0 {
		late := make([]string, 0, len(b.unsubLate))
		for r := range b.unsubLate {
			late = append(late, b.channel(r))
		}
		// go-redis forgets them (no resubscription on reconnect) even if this write fails
		if err := b.ps.Unsubscribe(ctx, late...); err != nil {
			b.subMu.Unlock()
			return err
		}
		clear(b.unsubLate)
	}
	rooms := b.servedRooms()
	if len(rooms) > 0 {
		channels := make([]string, len(rooms))
		for i, r := range rooms {
			channels[i] = b.channel(r)
		}
		if err := b.ps.Subscribe(ctx, channels...); err != nil {
			b.subMu.Unlock()
			return err
		}
	}
	if err := b.pubsubPing(ctx); err != nil {
		b.subMu.Unlock()
		return err
	}
	b.local.Clear()
	b.up.Store(true)
	b.subMu.Unlock()

	if len(rooms) == 0 {
		b.log.Info("redis broker up")
		return nil
	}
	now, err := b.client.Time(ctx).Result()
	if err != nil {
		return err
	}
	pipe := b.client.Pipeline()
	cmds := make([]*goredis.Cmd, len(rooms))
	for i, r := range rooms {
		cmds[i] = pipe.Eval(ctx, renewSrc, []string{b.streamKey(r), b.metaKey(r)},
			realtime.NewEpoch(), now.UnixMilli(), b.ttl(), b.channel(r), "r"+b.node)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return err
	}
	renewed := 0
	for _, c := range cmds {
		if n, _ := c.Int(); n == 1 {
			renewed++
		}
	}
	b.log.Info("redis broker up again", "rooms", len(rooms), "renewed", renewed)
	reset := *b.reset.Load()
	for _, r := range rooms {
		reset(r)
	}
	return nil
}

// lateLimit bounds, in Timeouts, how long a pub/sub ping may go unanswered while messages keep
// arriving: beyond it a node is too far behind for its events to be worth delivering (its
// clients are better reset to a snapshot), or Redis stopped answering with a backlog still
// buffered.
const lateLimit = 10

var errLatePing = errors.New("redis broker: no answer to a pub/sub ping")

// pubsubPing sends a PING on the pub/sub connection and waits for its answer, which Redis sends
// after every command sent before it on that connection (subscriptions included) and after the
// messages published before it. No answer within Timeout fails, unless room events keep
// arriving meanwhile: the answer is queued behind them on a node too busy to keep up (a room of
// thousands at a high event rate), which is not an outage (going down would reset every room,
// a snapshot for every client, on a node already short of time). It waits on then, up to
// lateLimit Timeouts in all.
func (b *Broker) pubsubPing(ctx context.Context) error {
	token, answer, err := b.sendPing(ctx)
	if err != nil {
		return err
	}
	return b.awaitPing(ctx, token, answer)
}

// sendPing sends the PING of pubsubPing; awaitPing waits for its answer.
func (b *Broker) sendPing(ctx context.Context) (string, chan struct{}, error) {
	token := "ping-" + realtime.NewEpoch()
	answer := make(chan struct{})
	b.waitMu.Lock()
	b.waiters[token] = answer
	b.waitMu.Unlock()
	wctx, cancel := context.WithTimeout(ctx, b.opts.Timeout)
	err := b.ps.Ping(wctx, token)
	cancel()
	if err != nil {
		b.forget(token)
		return "", nil, err
	}
	return token, answer, nil
}

func (b *Broker) awaitPing(ctx context.Context, token string, answer chan struct{}) error {
	defer b.forget(token)
	t := time.NewTimer(b.opts.Timeout)
	defer t.Stop()
	seen := b.received.Load()
	for waited := 1; ; waited++ {
		select {
		case <-answer:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		now := b.received.Load()
		if now == seen || waited >= lateLimit {
			return fmt.Errorf("%w within %v", errLatePing, time.Duration(waited)*b.opts.Timeout)
		}
		b.log.Debug("redis broker: pub/sub ping answered late while events arrive", "waited", time.Duration(waited)*b.opts.Timeout)
		seen = now
		t.Reset(b.opts.Timeout)
	}
}

// forget stops waiting for a ping's answer.
func (b *Broker) forget(token string) {
	b.waitMu.Lock()
	delete(b.waiters, token)
	b.waitMu.Unlock()
}

func (b *Broker) wake(token string) {
	b.waitMu.Lock()
	ch := b.waiters[token]
	delete(b.waiters, token)
	b.waitMu.Unlock()
	if ch != nil {
		close(ch)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
