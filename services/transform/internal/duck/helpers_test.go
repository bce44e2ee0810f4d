package duck

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/linkedin/goavro/v2"
)

// codecOf compiles an Avro schema with goavro, the reference implementation.
func codecOf(t testing.TB, schema string) *goavro.Codec {
	t.Helper()
	c, err := goavro.NewCodec(schema)
	if err != nil {
		t.Fatalf("goavro codec: %v", err)
	}
	return c
}

// goavroBody encodes native with goavro.
func goavroBody(t testing.TB, c *goavro.Codec, native map[string]any) []byte {
	t.Helper()
	b, err := c.BinaryFromNative(nil, native)
	if err != nil {
		t.Fatalf("goavro encode %v: %v", native, err)
	}
	return b
}

// goavroDecode decodes body with goavro and checks nothing is left over.
func goavroDecode(t testing.TB, c *goavro.Codec, body []byte) map[string]any {
	t.Helper()
	n, rest, err := c.NativeFromBinary(body)
	if err != nil || len(rest) != 0 {
		t.Fatalf("goavro decode: %v (%d bytes left)", err, len(rest))
	}
	return n.(map[string]any)
}

// inputSchema builds an InputSchema or fails the test.
func inputSchema(t testing.TB, schema, unwrap string) *InputSchema {
	t.Helper()
	s, err := NewInputSchema(schema, unwrap)
	if err != nil {
		t.Fatalf("NewInputSchema: %v", err)
	}
	return s
}

// decodeAll decodes bodies or fails the test.
func decodeAll(t testing.TB, s *InputSchema, bodies ...[]byte) [][]any {
	t.Helper()
	rows := make([][]any, len(bodies))
	for i, b := range bodies {
		row, err := s.Decode(b)
		if err != nil {
			t.Fatalf("Decode row %d: %v", i, err)
		}
		rows[i] = row
	}
	return rows
}

// openEngine opens an Engine closed at the end of the test.
func openEngine(t testing.TB) *Engine {
	t.Helper()
	e, err := Open(Options{Threads: 1})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return e
}

// run runs sql or fails the test.
func run(t testing.TB, e *Engine, sql string, inputs ...Input) *Result {
	t.Helper()
	res, err := e.Run(context.Background(), sql, inputs)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}

// show renders a value with its type so tests compare decimals, times,
// bytes and goavro unions exactly.
func show(v any) string {
	switch x := v.(type) {
	case nil:
		return "nil"
	case *big.Rat:
		return "rat:" + x.RatString()
	case duckdb.Decimal:
		return fmt.Sprintf("decimal(%d,%d):%s", x.Width, x.Scale, x.Value)
	case time.Time:
		return "time:" + x.Format(time.RFC3339Nano) + "@" + x.Location().String()
	case []byte:
		return fmt.Sprintf("bytes:%x", x)
	case json.RawMessage:
		return "json:" + string(x)
	case map[string]any:
		if len(x) == 1 {
			for k, u := range x {
				return "union:" + k + "=" + show(u)
			}
		}
	}
	return fmt.Sprintf("%T:%v", v, v)
}
