package duck

// maxPrecision bounds the precision of a decimal riacho reads (DuckDB's own
// limit is 38, wider ones become text); beyond it the logical type is
// ignored rather than computing 10^precision for a hostile schema.
const maxPrecision = 1000

// setLogical records lt on t when it is valid for t's type; invalid logical
// types leave the underlying type, as the specification says.
func setLogical(t *atype, lt string, m map[string]any) {
	valid := map[string]struct {
		k kind
		l logical
	}{
		"uuid": {kString, lUUID}, "date": {kInt, lDate}, "time-millis": {kInt, lTimeMillis},
		"time-micros": {kLong, lTimeMicros}, "timestamp-millis": {kLong, lTSMillis},
		"timestamp-micros": {kLong, lTSMicros}, "timestamp-nanos": {kLong, lTSNanos},
		"local-timestamp-millis": {kLong, lLocalMillis}, "local-timestamp-micros": {kLong, lLocalMicros},
		"local-timestamp-nanos": {kLong, lLocalNanos},
	}
	if lt == "decimal" && (t.kind == kBytes || t.kind == kFixed) {
		prec, _ := m["precision"].(float64)
		scale, _ := m["scale"].(float64)
		if prec < 1 || prec > maxPrecision || scale < 0 || scale > prec || prec != float64(int(prec)) || scale != float64(int(scale)) {
			return
		}
		if t.kind == kFixed && (t.size == 0 || prec > float64(maxFixedDigits(t.size))) {
			return
		}
		t.logical, t.precision, t.scale = lDecimal, int(prec), int(scale)
		t.limit = pow10(t.precision)
		return
	}
	if v, ok := valid[lt]; ok && v.k == t.kind {
		t.logical = v.l
	}
	if lt == "uuid" && t.kind == kFixed && t.size == 16 {
		t.logical = lUUID
	}
}

// maxFixedDigits is the number of decimal digits a two's complement number
// of n bytes always holds: floor(log10(2^(8n-1)-1)).
func maxFixedDigits(n int) int {
	if n > 64 {
		return 1 << 20
	}
	return int(float64(8*n-1) * 0.30102999566398120)
}
