package state_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/riacho/riacho/services/cdc/internal/cdctest"
	"github.com/riacho/riacho/services/cdc/internal/state"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type cursor struct {
	TS   string   `json:"ts"`
	Keys []string `json:"keys"`
}

func TestPutGetSurvivesReopen(t *testing.T) {
	env := cdctest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st := env.State(state.DefaultTopic)
	var c cursor
	if ok, err := st.Get("poll/sap/invoices", &c); ok || err != nil {
		t.Fatalf("empty store: %v %v", ok, err)
	}
	if err := st.Put(ctx, "poll/sap/invoices", cursor{TS: "2024-01-15T10:00:00Z", Keys: []string{"1"}}); err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, "poll/sap/invoices", cursor{TS: "2024-01-15T11:00:00Z", Keys: []string{"7", "8"}}); err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, "pg/erp/slot", map[string]any{"name": "riacho_erp"}); err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, "gone", 1); err != nil {
		t.Fatal(err)
	}
	if err := st.Delete(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	// Concurrent writers of distinct keys.
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if err := st.Put(ctx, fmt.Sprintf("k/%02d", i), i); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()

	again := env.State("")
	if ok, err := again.Get("poll/sap/invoices", &c); !ok || err != nil {
		t.Fatalf("reopened: %v %v", ok, err)
	}
	if c.TS != "2024-01-15T11:00:00Z" || len(c.Keys) != 2 {
		t.Fatalf("newest value not kept: %+v", c)
	}
	var n int
	if ok, _ := again.Get("gone", &n); ok {
		t.Fatal("deleted key came back")
	}
	if ok, _ := again.Get("k/13", &n); !ok || n != 13 {
		t.Fatalf("k/13 = %d %v", n, ok)
	}
	if keys := again.Keys(); len(keys) != 22 {
		t.Fatalf("keys %d: %v", len(keys), keys)
	}
	var wrong []int
	if _, err := again.Get("pg/erp/slot", &wrong); err == nil {
		t.Fatal("decoding into the wrong type gave no error")
	}
}

func TestSurvivesBrokerRestart(t *testing.T) {
	env := cdctest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st := env.State("custom_state")
	if err := st.Put(ctx, "a", "1"); err != nil {
		t.Fatal(err)
	}
	st.Close()
	env.Kafka.Restart()
	again := env.State("custom_state")
	var v string
	if ok, err := again.Get("a", &v); !ok || err != nil || v != "1" {
		t.Fatalf("after broker restart: %q %v %v", v, ok, err)
	}
}
