package redis

import (
	"context"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"
	goredis "github.com/redis/go-redis/v9"
)

// LimiterStorage implements fiber.Storage on Redis, so fiber's limiter middleware counts
// requests across every node. Keys live under a prefix; Reset deletes only those.
type LimiterStorage struct {
	client  *goredis.Client
	prefix  string
	timeout time.Duration
}

var _ fiber.Storage = (*LimiterStorage)(nil)

// NewLimiterStorage stores under "insieme:limiter:". The client stays the caller's to close.
func NewLimiterStorage(client *goredis.Client) *LimiterStorage {
	return &LimiterStorage{client: client, prefix: "insieme:limiter:", timeout: 500 * time.Millisecond}
}

// WithPrefix returns a storage on the same client under another key prefix.
func (s *LimiterStorage) WithPrefix(prefix string) *LimiterStorage {
	c := *s
	c.prefix = prefix
	return &c
}

func (s *LimiterStorage) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.timeout)
}

// Get returns the value of key, or nil (and no error) when there is none.
func (s *LimiterStorage) Get(key string) ([]byte, error) {
	if key == "" {
		return nil, nil
	}
	ctx, cancel := s.ctx()
	defer cancel()
	v, err := s.client.Get(ctx, s.prefix+key).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, nil
	}
	return v, err
}

// Set stores val under key for exp (0: no expiry). Empty keys or values are ignored.
func (s *LimiterStorage) Set(key string, val []byte, exp time.Duration) error {
	if key == "" || len(val) == 0 {
		return nil
	}
	ctx, cancel := s.ctx()
	defer cancel()
	return s.client.Set(ctx, s.prefix+key, val, exp).Err()
}

// Delete removes key.
func (s *LimiterStorage) Delete(key string) error {
	if key == "" {
		return nil
	}
	ctx, cancel := s.ctx()
	defer cancel()
	return s.client.Del(ctx, s.prefix+key).Err()
}

// Reset deletes every key under the prefix (and nothing else in the database).
func (s *LimiterStorage) Reset() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	iter := s.client.Scan(ctx, 0, s.prefix+"*", 500).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 500 {
			if err := s.client.Unlink(ctx, batch...).Err(); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := iter.Err(); err != nil {
		return err
	}
	if len(batch) > 0 {
		return s.client.Unlink(ctx, batch...).Err()
	}
	return nil
}

// Close does nothing: the client is shared and closed by its owner.
func (s *LimiterStorage) Close() error { return nil }
