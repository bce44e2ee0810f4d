package engine

import (
	"fmt"
	"strings"
)

// Target is where one topic's records land: the lake zone, the source, the
// entity, and the Iceberg table <Zone>_<Source>.<Entity>.
type Target struct {
	Topic  string
	Zone   string
	Source string
	Entity string
}

// Namespace is the Iceberg namespace of the target's table, e.g. "raw_ploomes".
func (t Target) Namespace() string { return t.Zone + "_" + t.Source }

// Table is the table's full name "namespace.name", e.g. "raw_ploomes.leads".
func (t Target) Table() string { return t.Namespace() + "." + t.Entity }

// ParseTopic maps a topic <zone>.<source>.<rest> to its target: the zone is
// the first segment, the source the second and the entity the rest with '.'
// replaced by '_' (raw.erp.public.clientes → zone raw, source erp, entity
// public_clientes). A topic of two segments (<zone>.<source>) has the
// source as its entity.
func ParseTopic(topic string) (Target, error) {
	parts := strings.Split(topic, ".")
	if len(parts) < 2 {
		return Target{}, fmt.Errorf("topic %q is not <zone>.<source>[.<entity>]", topic)
	}
	for i, p := range parts {
		if p == "" {
			return Target{}, fmt.Errorf("topic %q has an empty segment %d", topic, i+1)
		}
		if strings.ContainsAny(p, "/\\") {
			return Target{}, fmt.Errorf("topic %q: segment %q holds a path separator", topic, p)
		}
	}
	t := Target{Topic: topic, Zone: parts[0], Source: parts[1], Entity: parts[1]}
	if len(parts) > 2 {
		t.Entity = strings.Join(parts[2:], "_")
	}
	return t, nil
}
