package brazil

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestValidCPF(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"529.982.247-25", true},
		{"52998224725", true},
		{"111.444.777-35", true},
		{"11144477735", true},
		{"529.982.247-24", false}, // wrong DV2
		{"529.982.247-15", false}, // wrong DV1
		{"52998224726", false},
		{"000.000.000-00", false}, // all equal, DVs happen to match
		{"11111111111", false},
		{"99999999999", false},
		{"5299822472", false},   // 10 digits
		{"529982247250", false}, // 12 digits
		{"529.982.247.25", false},
		{"529-982-247-25", false},
		{"529982.247-25", false},
		{" 52998224725", false},
		{"5299822472a", false},
		{"", false},
		{"５２９９８２２４７２５", false}, // full-width digits
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := ValidCPF(tt.in); got != tt.want {
				t.Errorf("ValidCPF(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestValidCNPJ(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"11.222.333/0001-81", true},
		{"11222333000181", true},
		{"12.ABC.345/01DE-35", true},
		{"12ABC34501DE35", true},
		{"12abc34501de35", false}, // letters are upper case
		{"12.ABC.345/01DE-36", false},
		{"12.ABC.345/01DF-35", false},
		{"11.222.333/0001-80", false},
		{"11.222.333/0001-91", false},
		{"00000000000000", false}, // all equal
		{"00.000.000/0000-00", false},
		{"99999999999999", false},
		{"12ABC34501DE3A", false}, // check digits numeric
		{"12ABC34501D-35", false},
		{"1122233300018", false},
		{"112223330001810", false},
		{"11.222.333-0001/81", false},
		{"11 222 333 0001 81", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := ValidCNPJ(tt.in); got != tt.want {
				t.Errorf("ValidCNPJ(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// refDV is an independent formulation of the mod-11 rule:
// DV = ((sum * 10) mod 11) mod 10.
func refDV(chars string, firstWeight, wrapAt int) byte {
	sum, w := 0, firstWeight
	for i := 0; i < len(chars); i++ {
		sum += int(chars[i]-'0') * w
		w--
		if w < 2 {
			w = wrapAt
		}
	}
	return byte('0' + (sum*10%11)%10)
}

func TestCPFAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		base := fmt.Sprintf("%09d", r.IntN(1_000_000_000))
		d1 := refDV(base, 10, 0)
		d2 := refDV(base+string(d1), 11, 0)
		good := base + string(d1) + string(d2)
		want := !allEqual([]byte(good))
		if got := ValidCPF(good); got != want {
			t.Fatalf("ValidCPF(%q) = %v, want %v", good, got, want)
		}
		formatted := good[0:3] + "." + good[3:6] + "." + good[6:9] + "-" + good[9:]
		if got := ValidCPF(formatted); got != want {
			t.Fatalf("ValidCPF(%q) = %v, want %v", formatted, got, want)
		}
		bad := good[:10] + string('0'+(good[10]-'0'+1)%10)
		if ValidCPF(bad) {
			t.Fatalf("ValidCPF(%q) = true with a wrong DV2", bad)
		}
	}
}

func TestCNPJAgainstReference(t *testing.T) {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 2000; i++ {
		b := make([]byte, 12)
		for j := range b {
			if i%2 == 0 {
				b[j] = alphabet[r.IntN(10)] // numeric CNPJ
			} else {
				b[j] = alphabet[r.IntN(len(alphabet))]
			}
		}
		base := string(b)
		d1 := refDV(base, 5, 9)
		d2 := refDV(base+string(d1), 6, 9)
		good := base + string(d1) + string(d2)
		want := !allEqual([]byte(good))
		if got := ValidCNPJ(good); got != want {
			t.Fatalf("ValidCNPJ(%q) = %v, want %v", good, got, want)
		}
		formatted := good[0:2] + "." + good[2:5] + "." + good[5:8] + "/" + good[8:12] + "-" + good[12:]
		if got := ValidCNPJ(formatted); got != want {
			t.Fatalf("ValidCNPJ(%q) = %v, want %v", formatted, got, want)
		}
		bad := good[:13] + string('0'+(good[13]-'0'+1)%10)
		if ValidCNPJ(bad) {
			t.Fatalf("ValidCNPJ(%q) = true with a wrong DV2", bad)
		}
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name string
		fn   func(string) (string, bool)
		in   string
		want string
	}{
		{"cpf formatted", NormalizeCPF, "529.982.247-25", "52998224725"},
		{"cpf bare", NormalizeCPF, "52998224725", "52998224725"},
		{"cnpj formatted", NormalizeCNPJ, "12.ABC.345/01DE-35", "12ABC34501DE35"},
		{"cnpj bare", NormalizeCNPJ, "11222333000181", "11222333000181"},
		{"cep formatted", NormalizeCEP, "01310-100", "01310100"},
		{"cep bare", NormalizeCEP, "01310100", "01310100"},
		{"phone mobile", NormalizePhone, "(11) 98765-4321", "+5511987654321"},
		{"phone e164", NormalizePhone, "+55 21 3333-4444", "+552133334444"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.fn(tt.in)
			if !ok || got != tt.want {
				t.Errorf("normalize(%q) = %q, %v; want %q, true", tt.in, got, ok, tt.want)
			}
		})
	}
}
