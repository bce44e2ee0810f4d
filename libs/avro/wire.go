package avro

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// MagicByte is the first byte of every Confluent wire-format value.
const MagicByte byte = 0

// HeaderSize is the length of the wire-format header: magic byte and id.
const HeaderSize = 5

// Sentinel errors of SplitWire.
var (
	// ErrNoMagicByte means the first byte is not 0: not Confluent wire format.
	ErrNoMagicByte = errors.New("avro: not Confluent wire format (first byte is not 0)")
	// ErrTooShort means fewer than 5 bytes: no room for the header.
	ErrTooShort = errors.New("avro: value shorter than the 5-byte wire-format header")
)

// AppendWire appends the wire-format header for schema id and then
// avroBinary to dst.
func AppendWire(dst []byte, id uint32, avroBinary []byte) []byte {
	dst = appendHeader(dst, id)
	return append(dst, avroBinary...)
}

func appendHeader(dst []byte, id uint32) []byte {
	return binary.BigEndian.AppendUint32(append(dst, MagicByte), id)
}

// SplitWire splits a wire-format value into its schema id and Avro body.
// The payload aliases b.
func SplitWire(b []byte) (id uint32, payload []byte, err error) {
	if len(b) < HeaderSize {
		return 0, nil, fmt.Errorf("%w: %d bytes", ErrTooShort, len(b))
	}
	if b[0] != MagicByte {
		return 0, nil, fmt.Errorf("%w: 0x%02x", ErrNoMagicByte, b[0])
	}
	return binary.BigEndian.Uint32(b[1:HeaderSize]), b[HeaderSize:], nil
}
