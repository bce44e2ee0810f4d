package app

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/charmap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	controlv1 "github.com/riacho/riacho/proto/riacho/control/v1"
)

// TestKcatReadsProducedRecords checks the wire side with an independent client: kcat reads the
// keys and headers, and the raw value is Confluent framing around Avro that decodes with the
// schema fetched from the registry by id.
func TestKcatReadsProducedRecords(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatal("kcat not found: run scripts/ensure-tools.sh kcat (make test does)")
	}
	h := newHarness(t)
	if status, _, out := h.postSigned("/webhooks/whatsapp", testWhatsAppSecret, []byte(waNotification)); status != 200 {
		t.Fatalf("status %d (%v)", status, out)
	}
	broker := h.kafka.Addrs()[0]
	out, err := exec.Command(kcat, "-b", broker, "-C", "-t", "raw.whatsapp.messages", "-o", "beginning", "-e", "-q",
		"-f", `%k|%h\n`).CombinedOutput()
	if err != nil {
		t.Fatalf("kcat: %v: %s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 {
		t.Fatalf("kcat read %d records, want 2: %q", len(lines), out)
	}
	for i, want := range []string{"wamid.AAA1", "wamid.AAA2"} {
		key, headers, _ := strings.Cut(lines[i], "|")
		if key != want || !strings.Contains(headers, "riacho-event-id="+want) || !strings.Contains(headers, "riacho-source=whatsapp") {
			t.Errorf("record %d: key %q headers %q, want key %s with riacho headers", i, key, headers, want)
		}
	}
	value, err := exec.Command(kcat, "-b", broker, "-C", "-t", "raw.whatsapp.messages", "-p", "0", "-o", "0", "-c", "1", "-e", "-q",
		"-f", "%s").Output()
	if err != nil {
		t.Fatalf("kcat value: %v", err)
	}
	if len(value) < 5 || value[0] != 0 {
		t.Fatalf("value %x is not in the Confluent wire format", value)
	}
	id := binary.BigEndian.Uint32(value[1:5])
	resp, err := http.Get(fmt.Sprintf("%s/schemas/ids/%d", h.regURL, id))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sch struct{ Schema string }
	if err := json.NewDecoder(resp.Body).Decode(&sch); err != nil || sch.Schema == "" {
		t.Fatalf("schema %d from the registry: %v", id, err)
	}
	codec, err := goavro.NewCodec(sch.Schema)
	if err != nil {
		t.Fatal(err)
	}
	native, _, err := codec.NativeFromBinary(value[5:])
	if err != nil {
		t.Fatalf("decode with registry schema %d: %v", id, err)
	}
	if got := unwrap(native.(map[string]any)["message_id"]); got != "wamid.AAA1" {
		t.Errorf("message_id %v, want wamid.AAA1", got)
	}
}

func TestPauseThroughControlAnswers503(t *testing.T) {
	h := newHarness(t)
	conn, err := grpc.NewClient(h.svc.ControlAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctl := controlv1.NewControlClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+testControlToken)
	if _, err := ctl.Pause(ctx, &controlv1.PauseRequest{Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	st, err := ctl.Status(ctx, &controlv1.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if st.State != controlv1.State_STATE_PAUSED {
		t.Errorf("state %v, want PAUSED", st.State)
	}
	status, hdr, out := h.postSigned("/webhooks/whatsapp", testWhatsAppSecret, []byte(waNotification))
	if status != 503 || out["reason"] != "paused" || hdr.Get("Retry-After") == "" {
		t.Fatalf("paused: status %d %v Retry-After %q, want 503 paused with Retry-After", status, out, hdr.Get("Retry-After"))
	}
	if n := h.endOffsets("raw.whatsapp.messages"); n != 0 {
		t.Errorf("%d records produced while paused", n)
	}
	if _, err := ctl.Resume(ctx, &controlv1.ResumeRequest{}); err != nil {
		t.Fatal(err)
	}
	if status, _, out := h.postSigned("/webhooks/whatsapp", testWhatsAppSecret, []byte(waNotification)); status != 200 {
		t.Fatalf("resumed: status %d (%v)", status, out)
	}
	st, err = ctl.Status(ctx, &controlv1.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var events uint64
	for _, r := range st.Rates {
		if r.Name == "events_produced" {
			events = r.Total
		}
	}
	if events != 3 {
		t.Errorf("status events_produced total %d, want 3", events)
	}
}

func TestUploadXLSXAndWindows1252(t *testing.T) {
	h := newHarness(t)
	f := excelize.NewFile()
	rows := [][]any{{"Código", "Nome", "Valor"}, {1, "Ana", "1.234,56"}, {2, "João", "10,00"}}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	var xlsx bytes.Buffer
	if err := f.Write(&xlsx); err != nil {
		t.Fatal(err)
	}
	auth := map[string]string{"Authorization": "Bearer " + testShopToken}
	status, _, out := h.post("/v1/uploads/planilhas/vendas?filename=vendas.xlsx&columns=valor:decimal", xlsx.Bytes(), auth)
	if status != 200 || out["accepted"] != float64(2) {
		t.Fatalf("xlsx: status %d %v, want 200 with 2 accepted", status, out)
	}
	_, vals := h.consume("raw.planilhas.vendas", 2)
	if p := unwrap(vals[1]["payload"]).(string); !strings.Contains(p, `"João"`) || !strings.Contains(p, `"10.00"`) {
		t.Errorf("xlsx row payload %s", p)
	}

	cp1252, err := charmap.Windows1252.NewEncoder().String("Nome;Cidade\nConceição;São Paulo\n")
	if err != nil {
		t.Fatal(err)
	}
	status, _, out = h.post("/v1/uploads/planilhas/cidades?filename=cidades.csv", []byte(cp1252), auth)
	if status != 200 || out["accepted"] != float64(1) {
		t.Fatalf("cp1252: status %d %v", status, out)
	}
	_, vals = h.consume("raw.planilhas.cidades", 1)
	if p := unwrap(vals[0]["payload"]).(string); !strings.Contains(p, "Conceição") || !strings.Contains(p, "São Paulo") {
		t.Errorf("cp1252 row payload %s was not decoded to UTF-8", p)
	}
}

// TestTraceparentCarriedIntoRecordHeaders checks a caller's W3C trace context reaches the
// Kafka records, so a trace spans webhook → topic → downstream services.
func TestTraceparentCarriedIntoRecordHeaders(t *testing.T) {
	h := newHarness(t)
	body := []byte(waNotification)
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	status, _, out := h.post("/webhooks/whatsapp", body, map[string]string{
		"X-Hub-Signature-256": sign(testWhatsAppSecret, body),
		"traceparent":         "00-" + traceID + "-00f067aa0ba902b7-01",
	})
	if status != 200 {
		t.Fatalf("status %d (%v)", status, out)
	}
	recs, _ := h.consume("raw.whatsapp.messages", 2)
	for _, r := range recs {
		tp := header(r, "traceparent")
		if !strings.HasPrefix(tp, "00-"+traceID+"-") {
			t.Errorf("record %s traceparent %q, want trace id %s", r.Key, tp, traceID)
		}
	}
}
