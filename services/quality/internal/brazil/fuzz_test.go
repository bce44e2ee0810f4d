package brazil

import (
	"strings"
	"testing"
)

func FuzzValidCPF(f *testing.F) {
	for _, s := range []string{"529.982.247-25", "52998224725", "000.000.000-00", "529.982.247-2", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ok := ValidCPF(s)
		n, shaped := NormalizeCPF(s)
		if ok && !shaped {
			t.Fatalf("ValidCPF(%q) but NormalizeCPF fails", s)
		}
		if !shaped {
			return
		}
		if len(n) != 11 || !isDigits(n) {
			t.Fatalf("NormalizeCPF(%q) = %q, not 11 digits", s, n)
		}
		if ValidCPF(n) != ok {
			t.Fatalf("ValidCPF(%q) = %v but ValidCPF(%q) = %v", s, ok, n, !ok)
		}
		formatted := n[0:3] + "." + n[3:6] + "." + n[6:9] + "-" + n[9:]
		if ValidCPF(formatted) != ok {
			t.Fatalf("formatted %q disagrees with %q", formatted, s)
		}
	})
}

func FuzzValidCNPJ(f *testing.F) {
	for _, s := range []string{"11.222.333/0001-81", "12ABC34501DE35", "12.ABC.345/01DE-35", "00000000000000", "12abc34501de35"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ok := ValidCNPJ(s)
		n, shaped := NormalizeCNPJ(s)
		if ok && !shaped {
			t.Fatalf("ValidCNPJ(%q) but NormalizeCNPJ fails", s)
		}
		if !shaped {
			return
		}
		if len(n) != 14 || !isDigits(n[12:]) || strings.ToUpper(n) != n {
			t.Fatalf("NormalizeCNPJ(%q) = %q, not a 14-char CNPJ", s, n)
		}
		if ValidCNPJ(n) != ok {
			t.Fatalf("ValidCNPJ(%q) = %v but ValidCNPJ(%q) = %v", s, ok, n, !ok)
		}
		formatted := n[0:2] + "." + n[2:5] + "." + n[5:8] + "/" + n[8:12] + "-" + n[12:]
		if ValidCNPJ(formatted) != ok {
			t.Fatalf("formatted %q disagrees with %q", formatted, s)
		}
	})
}

func FuzzValidPhone(f *testing.F) {
	for _, s := range []string{"+55 (11) 98765-4321", "1133334444", "011987654321", "+5510987654321", "+"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ok := ValidPhone(s)
		n, nok := NormalizePhone(s)
		if ok != nok {
			t.Fatalf("ValidPhone(%q) = %v, NormalizePhone ok = %v", s, ok, nok)
		}
		if !ok {
			return
		}
		if !strings.HasPrefix(n, "+55") || (len(n) != 13 && len(n) != 14) || !isDigits(n[1:]) {
			t.Fatalf("NormalizePhone(%q) = %q, not +55 E.164", s, n)
		}
		if again, ok := NormalizePhone(n); !ok || again != n {
			t.Fatalf("NormalizePhone(%q) = %q, %v; not idempotent", n, again, ok)
		}
	})
}

func FuzzValidCEP(f *testing.F) {
	for _, s := range []string{"01310-100", "01310100", "0131-0100", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ok := ValidCEP(s)
		n, nok := NormalizeCEP(s)
		if ok != nok {
			t.Fatalf("ValidCEP(%q) = %v, NormalizeCEP ok = %v", s, ok, nok)
		}
		if ok && (len(n) != 8 || !isDigits(n) || !ValidCEP(n[:5]+"-"+n[5:])) {
			t.Fatalf("NormalizeCEP(%q) = %q", s, n)
		}
	})
}

func BenchmarkValidCNPJ(b *testing.B) {
	for b.Loop() {
		if !ValidCNPJ("12.ABC.345/01DE-35") {
			b.Fatal("invalid")
		}
	}
}

func BenchmarkValidCPF(b *testing.B) {
	for b.Loop() {
		if !ValidCPF("529.982.247-25") {
			b.Fatal("invalid")
		}
	}
}
