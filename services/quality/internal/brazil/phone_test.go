package brazil

import "testing"

func TestValidPhone(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"+5511987654321", true},      // E.164 mobile, DDD 11
		{"+55 11 98765-4321", true},   // formatted E.164
		{"+55 (11) 98765-4321", true}, // parentheses around DDD
		{"+551133334444", true},       // E.164 landline
		{"+559933334444", true},       // DDD 99
		{"+5599987654321", true},
		{"5511987654321", true}, // country code without +
		{"551133334444", true},
		{"11987654321", true}, // national mobile
		{"(11) 98765-4321", true},
		{"1133334444", true}, // national landline
		{"(21) 2555-1234", true},
		{"011987654321", true}, // trunk prefix 0
		{"01133334444", true},
		{"5533334444", true},       // DDD 55 landline, no country code
		{"+5510987654321", false},  // DDD 10
		{"+5501987654321", false},  // DDD 01
		{"+5520987654321", false},  // DDD with a zero digit
		{"+5511887654321", false},  // 9-digit number not starting with 9
		{"+551193334444", false},   // 8-digit number starting with 9 (old mobile)
		{"+551113334444", false},   // 8-digit number starting with 1
		{"+55119876543210", false}, // too long
		{"+55119876543", false},    // too short
		{"+5411987654321", false},  // other country
		{"+1 11 98765-4321", false},
		{"11 98765-432a", false},
		{"11/98765-4321", false},
		{"987654321", false}, // no DDD
		{"+", false},
		{"", false},
		{"()", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := ValidPhone(tt.in); got != tt.want {
				t.Errorf("ValidPhone(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestValidCEP(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"01310-100", true},
		{"01310100", true},
		{"99999-999", true},
		{"0131-0100", false},
		{"01310 100", false},
		{"01310.100", false},
		{"01310-10", false},
		{"0131010", false},
		{"013101000", false},
		{"01310-1000", false},
		{"0131A-100", false},
		{" 01310100", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := ValidCEP(tt.in); got != tt.want {
				t.Errorf("ValidCEP(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
