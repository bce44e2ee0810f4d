package demo

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestSignMatchesMetaCheckValue(t *testing.T) {
	got := Sign("test_app_secret", []byte(`{"object":"whatsapp_business_account"}`))
	want := "sha256=62dd87e2fca9df61d2bb074ef802490563f3f47ab32fc81b2267f074ab32ad96"
	if got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestPayloadsAreValidJSONWithMetaEscaping(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for name, body := range map[string][]byte{
		"whatsapp": WhatsAppNotification(r, now), "meta": MetaLead(r, now), "ploomes": PloomesDeal(r, now),
		"shop": ShopOrder(r, now), "bench": BenchNotification(),
	} {
		var v map[string]any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if name == "whatsapp" || name == "meta" || name == "bench" {
			for _, c := range body {
				if c >= 0x80 {
					t.Errorf("%s: raw non-ASCII byte %#x; Meta escapes it as \\uXXXX", name, c)
					break
				}
			}
		}
	}
	if n := len(BenchNotification()); n < 900 || n > 1300 {
		t.Errorf("bench notification is %d bytes, want about 1 KiB", n)
	}
}

func TestSpreadsheetIsPtBR(t *testing.T) {
	csv := string(SpreadsheetCSV(rand.New(rand.NewPCG(3, 4))))
	lines := strings.Split(strings.TrimSpace(csv), "\n")
	if len(lines) != 21 {
		t.Fatalf("%d lines, want a header and 20 rows", len(lines))
	}
	for _, l := range lines[1:] {
		f := strings.Split(l, ";")
		if len(f) != 5 || !strings.Contains(f[3], ",") || strings.Count(f[4], "/") != 2 {
			t.Errorf("row %q is not ;-separated with a decimal comma and a dd/mm/yyyy date", l)
		}
	}
}
