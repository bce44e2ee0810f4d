package access

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
)

func TestAuditLine(t *testing.T) {
	var buf bytes.Buffer
	a := NewAuditor(&buf)
	ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 5555}})
	before := time.Now()
	a.Audit(ctx, Entry{
		Principal:  Principal{Name: "marketing-app", Roles: []string{"marketing"}, Method: MethodMTLS},
		Method:     "Query",
		Metrics:    []string{"revenue"},
		Dimensions: []string{"customer_id"},
		Filters:    []FilterEntry{{Field: "email", Operator: "in", Values: 2}},
		Grain:      "month",
		Duration:   1500 * time.Microsecond,
		Code:       codes.PermissionDenied,
		Error:      `client marketing-app may not query dimension "customer_id" of metric revenue`,
	})
	a.Audit(context.Background(), Entry{
		Principal: Principal{Name: "bi-dashboard", Roles: []string{"finance"}, Method: MethodBearer},
		Peer:      "192.0.2.1:1", Method: "Query", Metrics: []string{"mrr"}, Rows: 12, Cached: true,
	})
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(lines), buf.String())
	}
	var denied map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &denied); err != nil {
		t.Fatalf("line %q: %v", lines[0], err)
	}
	when, err := time.Parse(time.RFC3339Nano, denied["time"].(string))
	if err != nil || when.Before(before.Add(-time.Second)) {
		t.Errorf("time %v (%v)", denied["time"], err)
	}
	want := map[string]any{
		"level": "WARN", "msg": "metrics query", "client": "marketing-app", "auth": "mtls",
		"roles": []any{"marketing"}, "peer": "10.1.2.3:5555", "rpc": "Query",
		"metrics": []any{"revenue"}, "dimensions": []any{"customer_id"},
		"filters": []any{map[string]any{"field": "email", "operator": "in", "values": float64(2)}},
		"grain":   "month", "rows": float64(0), "cached": false, "duration_ms": 1.5, "code": "PermissionDenied",
		"error": `client marketing-app may not query dimension "customer_id" of metric revenue`,
	}
	delete(denied, "time")
	if !reflect.DeepEqual(denied, want) {
		t.Errorf("audit line\n got %v\nwant %v", denied, want)
	}
	var ok map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &ok); err != nil {
		t.Fatal(err)
	}
	if ok["level"] != "INFO" || ok["code"] != "OK" || ok["rows"] != float64(12) || ok["cached"] != true ||
		ok["peer"] != "192.0.2.1:1" || ok["auth"] != "bearer" {
		t.Errorf("success line %v", ok)
	}
	if _, has := ok["error"]; has {
		t.Error("success line has an error field")
	}
	if f, isList := ok["filters"].([]any); !isList || len(f) != 0 {
		t.Errorf("no filters logged as %v, want []", ok["filters"])
	}
}

func TestNilAuditor(t *testing.T) {
	if a := NewAuditor(nil); a != nil {
		t.Fatal("NewAuditor(nil) is not nil")
	}
	var a *Auditor
	a.Audit(context.Background(), Entry{Method: "Query"}) // must not panic
}
