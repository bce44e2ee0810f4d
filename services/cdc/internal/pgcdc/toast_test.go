package pgcdc

import (
	"slices"
	"strings"
	"testing"

	"github.com/riacho/riacho/services/cdc/internal/envelope"
)

// bigText is a value PostgreSQL stores out of line (TOAST): over 2 KB and
// hard to compress.
const bigText = `(SELECT string_agg(md5(i::text), '') FROM generate_series(1, 200) i)`

func TestUnchangedToastIsNeverNull(t *testing.T) {
	for _, full := range []bool{false, true} {
		name := "replica_identity_default"
		if full {
			name = "replica_identity_full"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, `CREATE TABLE docs (id int PRIMARY KEY, body text, n int)`)
			if full {
				h.exec(`ALTER TABLE docs REPLICA IDENTITY FULL`)
			}
			c, _ := h.start(h.config())
			waitStreaming(t, c)
			h.exec(`INSERT INTO docs VALUES (1, `+bigText+`, 0)`, `UPDATE docs SET n = 1 WHERE id = 1`)
			h.caughtUp(c)
			got := h.readAll("docs")
			if ops := opsOf(got); ops != "cu" {
				t.Fatalf("ops %q, want cu", ops)
			}
			body, _ := got[0].After()["body"].(string)
			if len(body) != 6400 {
				t.Fatalf("inserted body has %d characters, want 6400", len(body))
			}
			upd := got[1]
			unchanged, _ := upd.Value["unchanged"].([]any)
			if upd.After()["n"] != int32(1) {
				t.Errorf("update after n = %v", upd.After()["n"])
			}
			if full {
				if upd.After()["body"] != body || len(unchanged) != 0 {
					t.Errorf("REPLICA IDENTITY FULL: body %.20q... unchanged %v, want the old row's value and no unchanged column",
						upd.After()["body"], unchanged)
				}
				if b := upd.Before(); b["body"] != body || b["n"] != int32(0) {
					t.Errorf("before = %.40v, want the whole old row", b)
				}
				return
			}
			if upd.After()["body"] != envelope.Unavailable || !slices.Equal(unchanged, []any{"body"}) {
				t.Errorf("body %.40q unchanged %v, want the placeholder and body listed as unchanged", upd.After()["body"], unchanged)
			}
			if strings.Contains(opsOf(got), "~") {
				t.Error("no tombstone expected")
			}
		})
	}
}
