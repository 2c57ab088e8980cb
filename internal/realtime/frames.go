package realtime

import (
	"encoding/binary"
	"encoding/json"
	"errors"

	"github.com/insieme/insieme/internal/insieme"
)

// Websocket opcodes (RFC 6455 5.2).
const (
	opText  = 0x1
	opClose = 0x8
	opPing  = 0x9
	opPong  = 0xA
)

// appendFrame appends one server frame: FIN set, unmasked (servers never mask).
func appendFrame(dst []byte, op byte, payload []byte) []byte {
	dst = append(dst, 0x80|op)
	switch n := len(payload); {
	case n < 126:
		dst = append(dst, byte(n))
	case n <= 0xFFFF:
		dst = append(dst, 126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, 127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	return append(dst, payload...)
}

// textFrame wraps a JSON message in a complete, ready-to-write websocket frame.
func textFrame(payload []byte) []byte {
	return appendFrame(make([]byte, 0, len(payload)+10), opText, payload)
}

// closeFrame is a close frame with code and a short reason; code 1005 (no status) sends an
// empty payload, as RFC 6455 forbids sending 1005 itself.
func closeFrame(code int, reason string) []byte {
	if code == 1005 {
		return appendFrame(nil, opClose, nil)
	}
	p := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(reason)), uint16(code))
	if len(reason) <= 123 {
		p = append(p, reason...)
	}
	return appendFrame(nil, opClose, p)
}

func closeReason(code int) string {
	switch code {
	case CloseGoingAway:
		return "going away"
	case CloseTooBig:
		return "message too big"
	case CloseInternal:
		return "internal error"
	case CloseSlowConsumer:
		return "slow consumer"
	case CloseFlood:
		return "too many messages"
	case CloseAccountClosed:
		return "signed out"
	case CloseRemoved:
		return "removed from the session"
	}
	return ""
}

// Client -> server envelope. Domain messages carry more fields; handlers get the whole message.
type inMsg struct {
	Type  string          `json:"type"`
	Ref   json.RawMessage `json:"ref,omitempty"`
	Room  string          `json:"room,omitempty"`
	Since *Position       `json:"since,omitempty"`
	Token string          `json:"token,omitempty"`
}

// Server -> client messages, one struct each so zero values that matter (seq 0, principal
// null) are always sent.
type helloMsg struct {
	Type      string             `json:"type"`
	Conn      string             `json:"conn"`
	Principal *insieme.Principal `json:"principal"`
	Heartbeat int                `json:"heartbeat"`
}

type authedMsg struct {
	Type      string             `json:"type"`
	Principal *insieme.Principal `json:"principal"`
	Ref       json.RawMessage    `json:"ref,omitempty"`
}

type subscribedMsg struct {
	Type      string          `json:"type"`
	Room      string          `json:"room"`
	Epoch     string          `json:"epoch"`
	Seq       uint64          `json:"seq"`
	Ref       json.RawMessage `json:"ref,omitempty"`
	Recovered bool            `json:"recovered,omitempty"`
	Snapshot  json.RawMessage `json:"snapshot,omitempty"`
}

type resyncMsg struct {
	Type     string          `json:"type"`
	Room     string          `json:"room"`
	Epoch    string          `json:"epoch"`
	Seq      uint64          `json:"seq"`
	Snapshot json.RawMessage `json:"snapshot"`
}

type eventMsg struct {
	Type  string          `json:"type"`
	Room  string          `json:"room"`
	Epoch string          `json:"epoch"`
	Seq   uint64          `json:"seq"`
	Data  json.RawMessage `json:"data"`
}

type refMsg struct { // unsubscribed, pong
	Type string          `json:"type"`
	Room string          `json:"room,omitempty"`
	Ref  json.RawMessage `json:"ref,omitempty"`
}

type ackMsg struct {
	Type string          `json:"type"`
	Ref  json.RawMessage `json:"ref,omitempty"`
	Data any             `json:"data,omitempty"`
}

type errorMsg struct {
	Type       string            `json:"type"`
	Code       string            `json:"code"`
	Message    string            `json:"message"`
	Ref        json.RawMessage   `json:"ref,omitempty"`
	Room       string            `json:"room,omitempty"`
	Fields     map[string]string `json:"fields,omitempty"`
	Limits     map[string]int    `json:"limits,omitempty"`
	RetryAfter int               `json:"retryAfter,omitempty"`
}

// encode marshals a server message into a frame; the message types above cannot fail to
// marshal except through a handler's ack data, which the caller handles.
func encode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return textFrame(b), nil
}

func mustEncode(v any) []byte {
	f, err := encode(v)
	if err != nil {
		panic("realtime: encoding a server message: " + err.Error())
	}
	return f
}

func eventFrame(ev Event) []byte {
	data := ev.Data
	if len(data) == 0 {
		data = json.RawMessage("null")
	}
	f, err := encode(eventMsg{Type: "event", Room: ev.Room, Epoch: ev.Epoch, Seq: ev.Seq, Data: data})
	if err != nil { // the broker carried invalid JSON: keep the stream in step, lose the payload
		f = mustEncode(eventMsg{Type: "event", Room: ev.Room, Epoch: ev.Epoch, Seq: ev.Seq, Data: json.RawMessage("null")})
	}
	return f
}

// errorFrame turns err into an error message; only *insieme.Error details reach the client.
func errorFrame(err error, ref json.RawMessage, room string) []byte {
	m := errorMsg{Type: "error", Code: insieme.ErrorCode(err), Message: insieme.ErrorMessage(err), Ref: ref, Room: room}
	var e *insieme.Error
	if errors.As(err, &e) {
		m.Fields, m.Limits, m.RetryAfter = e.Fields, e.Limits, e.RetryAfter
	}
	return mustEncode(m)
}
