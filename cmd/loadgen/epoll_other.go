//go:build !linux

package main

import (
	"context"
	"errors"
)

// epollSupported is false: -epoll falls back to the websocket library's receive path.
const epollSupported = false

func (p *participant) dialEpoll(context.Context, string) (wsConn, error) {
	return nil, errors.New("the epoll receive path is Linux only")
}
