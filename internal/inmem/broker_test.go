package inmem_test

import (
	"testing"

	"github.com/insieme/insieme/internal/inmem"
	"github.com/insieme/insieme/internal/realtime"
	"github.com/insieme/insieme/internal/realtime/brokertest"
)

func TestBrokerContract(t *testing.T) {
	brokertest.Run(t, func(*testing.T) realtime.Broker { return inmem.NewBroker(100) })
}
