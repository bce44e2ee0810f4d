package avro_test

import (
	"context"
	"errors"
	"math/big"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/libs/kafka/kafkatest"
	"github.com/riacho/riacho/libs/registry"
)

// TestAgainstRiachoRegistry runs the client and Serde against riacho's own
// registry server (libs/registry, state in a kfake topic).
func TestAgainstRiachoRegistry(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Kafka broker and the registry")
	}
	cluster := kafkatest.NewCluster(t)
	cfg := registry.DefaultConfig()
	cfg.StartTimeout = 30 * time.Second
	reg, err := registry.New(cluster.Addrs(), cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(reg.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := reg.Start(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(reg.Handler())
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL)

	id, err := c.Register(ctx, "raw.ploomes.deals-value", dealV1)
	if err != nil {
		t.Fatal(err)
	}
	if other, err := c.Register(ctx, "staging.deals-value", dealV1); err != nil || other != id {
		t.Fatalf("same schema under a second subject: id %d, %v; want %d", other, err, id)
	}
	fresh := newClient(t, srv.URL)
	sc, err := fresh.SchemaByID(ctx, id)
	if err != nil || !strings.Contains(sc, `"Deal"`) {
		t.Fatalf("schema by id: %q, %v", sc, err)
	}
	v2, err := c.Register(ctx, "raw.ploomes.deals-value", dealV2)
	if err != nil {
		t.Fatalf("backward-compatible v2: %v", err)
	}
	latest, err := c.Latest(ctx, "raw.ploomes.deals-value")
	if err != nil || latest.ID != v2 || latest.Version != 2 {
		t.Fatalf("latest = %+v, %v", latest, err)
	}
	if v1, err := c.Version(ctx, "raw.ploomes.deals-value", 1); err != nil || v1.ID != id {
		t.Fatalf("version 1 = %+v, %v", v1, err)
	}
	if _, err := c.Register(ctx, "raw.ploomes.deals-value", dealBad); !errors.Is(err, avro.ErrIncompatible) {
		t.Fatalf("incompatible schema: %v", err)
	}
	if ok, msgs, err := c.CheckCompatibility(ctx, "raw.ploomes.deals-value", dealBad, "latest"); err != nil || ok || len(msgs) == 0 {
		t.Fatalf("compatibility check of the bad schema: ok=%t msgs=%v err=%v", ok, msgs, err)
	}
	if _, err := c.Register(ctx, "x-value", `{"type":"recrd"}`); !errors.Is(err, avro.ErrInvalidSchema) {
		t.Fatalf("invalid schema: %v", err)
	}
	if _, err := fresh.SchemaByID(ctx, 9999); !errors.Is(err, avro.ErrSchemaNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	if _, err := c.Latest(ctx, "nope-value"); !errors.Is(err, avro.ErrSubjectNotFound) {
		t.Fatalf("unknown subject: %v", err)
	}
	if lvl, err := c.Compatibility(ctx, ""); err != nil || lvl != "BACKWARD" {
		t.Fatalf("global compatibility %q, %v", lvl, err)
	}
	if err := c.SetCompatibility(ctx, "raw.ploomes.deals-value", "FULL"); err != nil {
		t.Fatal(err)
	}
	if lvl, err := c.Compatibility(ctx, "raw.ploomes.deals-value"); err != nil || lvl != "FULL" {
		t.Fatalf("subject compatibility %q, %v", lvl, err)
	}
	subjects, err := c.Subjects(ctx)
	if err != nil || len(subjects) < 2 {
		t.Fatalf("subjects %v, %v", subjects, err)
	}

	// Encode with one Serde, decode with another that has only the registry.
	enc, err := avro.NewSerde(c).Encoder(ctx, "raw.ploomes.deals-value-full", dealSchema)
	if err != nil {
		t.Fatal(err)
	}
	wire, err := enc.Encode(deal())
	if err != nil {
		t.Fatal(err)
	}
	native, gotID, err := avro.NewSerde(fresh).Decode(ctx, wire)
	if err != nil || gotID != enc.ID() {
		t.Fatalf("decode: id %d, %v", gotID, err)
	}
	if amt := native.(map[string]any)["amount"].(*big.Rat); amt.Cmp(big.NewRat(123450, 100)) != 0 {
		t.Fatalf("amount %v", amt)
	}
	if _, _, err := avro.NewSerde(fresh).Decode(ctx, avro.AppendWire(nil, 9999, []byte{0})); !errors.Is(err, avro.ErrSchemaNotFound) || !strings.Contains(err.Error(), "9999") {
		t.Fatalf("decode with an unknown id: %v", err)
	}
}
