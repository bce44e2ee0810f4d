package engine

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Header names of output and dead-letter records.
const (
	HeaderModel     = "riacho-model"
	HeaderSource    = "riacho-source"
	HeaderReason    = "riacho-reason"
	HeaderKind      = "riacho-error-kind"
	HeaderTopic     = "riacho-topic"
	HeaderPartition = "riacho-partition"
	HeaderOffset    = "riacho-offset"
	HeaderSchemaID  = "riacho-schema-id"
)

// Dead-letter reasons (the riacho-error-kind header and the reason label
// of riacho_transform_dead_letters_total).
const (
	reasonWire   = "wire"   // not the schema-registry wire format
	reasonSchema = "schema" // writer schema unknown to the registry or not mappable
	reasonDecode = "decode" // body does not decode with its writer schema
	reasonSQL    = "sql"    // the model's SQL fails on the record's values
	reasonEncode = "encode" // an output row does not fit its output schema
)

// deadLetter is the dead-letter record of an input record: its key and
// value as they were, the reason and origin in headers.
func (r *runner) deadLetter(rec *kgo.Record, schemaID uint32, kind string, reason error) *kgo.Record {
	r.e.metrics.dead.WithLabelValues(r.m.Name, kind).Inc()
	r.log.Warn("record sent to the dead-letter topic", "topic", rec.Topic, "partition", rec.Partition,
		"offset", rec.Offset, "kind", kind, "reason", reason)
	h := []kgo.RecordHeader{
		{Key: HeaderModel, Value: []byte(r.m.Name)},
		{Key: HeaderKind, Value: []byte(kind)},
		{Key: HeaderReason, Value: []byte(reason.Error())},
		{Key: HeaderTopic, Value: []byte(rec.Topic)},
		{Key: HeaderPartition, Value: []byte(strconv.FormatInt(int64(rec.Partition), 10))},
		{Key: HeaderOffset, Value: []byte(strconv.FormatInt(rec.Offset, 10))},
	}
	if schemaID != 0 {
		h = append(h, kgo.RecordHeader{Key: HeaderSchemaID, Value: []byte(strconv.FormatUint(uint64(schemaID), 10))})
	}
	return &kgo.Record{Topic: r.e.cfg.DLQTopic, Key: rec.Key, Value: rec.Value, Headers: append(h, rec.Headers...)}
}

// rowDeadLetter is the dead-letter record of an output row that could not
// be encoded: the row as JSON (column name to value).
func (r *runner) rowDeadLetter(row []any, p *prepared, reason error) *kgo.Record {
	r.e.metrics.dead.WithLabelValues(r.m.Name, reasonEncode).Inc()
	r.log.Warn("output row sent to the dead-letter topic", "kind", reasonEncode, "reason", reason)
	obj := make(map[string]any, len(row))
	for i, c := range p.cols {
		if i < len(row) {
			obj[c.Name] = jsonable(row[i])
		}
	}
	body, err := json.Marshal(obj)
	if err != nil {
		body = []byte(fmt.Sprintf("%q", fmt.Sprint(row)))
	}
	return &kgo.Record{Topic: r.e.cfg.DLQTopic, Value: body, Headers: []kgo.RecordHeader{
		{Key: HeaderModel, Value: []byte(r.m.Name)},
		{Key: HeaderKind, Value: []byte(reasonEncode)},
		{Key: HeaderReason, Value: []byte(reason.Error())},
		{Key: HeaderSchemaID, Value: []byte(strconv.FormatUint(uint64(p.inID), 10))},
	}}
}

func jsonable(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case []byte:
		return x
	case fmt.Stringer:
		return x.String()
	default:
		return v
	}
}
