package avro_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/riacho/riacho/libs/avro"
)

func TestWire(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		id      uint32
		payload []byte
		err     error
	}{
		{"id 1", []byte{0, 0, 0, 0, 1, 0xAA}, 1, []byte{0xAA}, nil},
		{"max id, empty body", []byte{0, 0xFF, 0xFF, 0xFF, 0xFF}, 0xFFFFFFFF, []byte{}, nil},
		{"big endian", []byte{0, 1, 2, 3, 4, 9, 9}, 0x01020304, []byte{9, 9}, nil},
		{"empty", nil, 0, nil, avro.ErrTooShort},
		{"four bytes", []byte{0, 0, 0, 1}, 0, nil, avro.ErrTooShort},
		{"magic 1", []byte{1, 0, 0, 0, 1, 2}, 0, nil, avro.ErrNoMagicByte},
		{"json", []byte(`{"a":1}`), 0, nil, avro.ErrNoMagicByte},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, payload, err := avro.SplitWire(tt.in)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if id != tt.id || !bytes.Equal(payload, tt.payload) {
				t.Fatalf("got id %d payload %x, want %d %x", id, payload, tt.id, tt.payload)
			}
			if back := avro.AppendWire(nil, id, payload); !bytes.Equal(back, tt.in) {
				t.Fatalf("AppendWire = %x, want %x", back, tt.in)
			}
		})
	}
	// AppendWire appends after what dst holds.
	if got := avro.AppendWire([]byte("k:"), 7, []byte{1}); !bytes.Equal(got, []byte{'k', ':', 0, 0, 0, 0, 7, 1}) {
		t.Fatalf("AppendWire onto a prefix = %x", got)
	}
}

func FuzzSplitWire(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 1, 2, 3})
	f.Add([]byte{1, 2})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		id, payload, err := avro.SplitWire(b)
		if err != nil {
			if len(b) >= 5 && b[0] == 0 {
				t.Fatalf("rejected a valid header: %v", err)
			}
			return
		}
		if !bytes.Equal(avro.AppendWire(nil, id, payload), b) {
			t.Fatalf("round trip of %x changed it", b)
		}
	})
}
