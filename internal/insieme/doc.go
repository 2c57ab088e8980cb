// Package insieme is the domain: the types, validation rules, error codes and the interfaces
// that the adapters (mongo, redis, inmem, web) implement or use. It imports only the standard
// library, so every other package can depend on it and none of them on each other.
package insieme
