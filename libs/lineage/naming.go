package lineage

import (
	"net"
	"net/url"
	"path"
	"strings"
)

// Dataset naming follows the OpenLineage naming conventions
// (https://openlineage.io/docs/spec/naming): a namespace that says where
// the data lives, and a name unique within it.

// KafkaNamespace is "kafka://<host>:<port>" of the first bootstrap broker,
// the namespace of every topic of that cluster.
func KafkaNamespace(brokers []string) string {
	if len(brokers) == 0 {
		return "kafka://unknown"
	}
	return "kafka://" + strings.TrimSpace(brokers[0])
}

// KafkaTopic is the dataset of a topic of the cluster reached through brokers.
func KafkaTopic(brokers []string, topic string) Dataset {
	return Dataset{Namespace: KafkaNamespace(brokers), Name: topic}
}

// LakeNamespace is the lake's URL without user information, query or
// fragment (where credentials and endpoint options live): file:///data/lake,
// s3://bucket/prefix, gs://bucket.
func LakeNamespace(lakeURL string) string {
	u, err := url.Parse(strings.TrimSpace(lakeURL))
	if err != nil || u.Scheme == "" {
		return "file://" + strings.TrimSpace(lakeURL)
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return strings.TrimSuffix(u.String(), "/")
}

// LakeTable is the dataset of an Iceberg table of the lake, named
// "<namespace>.<table>" as in the catalog (e.g. raw_ploomes.leads).
func LakeTable(lakeURL, table string) Dataset {
	return Dataset{Namespace: LakeNamespace(lakeURL), Name: table}
}

// WarehouseTable is the dataset of a table of the warehouse at dsn:
//
//	postgres://user:pw@host:5432/analytics  → postgres://host:5432, analytics.public.<table>
//	duckdb:///srv/warehouse.duckdb          → duckdb:///srv/warehouse.duckdb, warehouse.main.<table>
//	duckdb::memory:                         → duckdb://memory, memory.main.<table>
//
// A table name with a dot is taken as schema.table.
func WarehouseTable(dsn, table string) Dataset {
	ns, db, schema := warehouseParts(dsn)
	if s, t, ok := strings.Cut(table, "."); ok {
		schema, table = s, t
	}
	return Dataset{Namespace: ns, Name: db + "." + schema + "." + table}
}

// warehouseParts returns the namespace, database and default schema of dsn.
func warehouseParts(dsn string) (namespace, db, schema string) {
	dsn = strings.TrimSpace(dsn)
	if rest, ok := strings.CutPrefix(dsn, "duckdb:"); ok {
		p := strings.TrimPrefix(rest, "//")
		if p == "" || p == ":memory:" || p == ":memory" {
			return "duckdb://memory", "memory", "main"
		}
		base := path.Base(p)
		return "duckdb://" + p, strings.TrimSuffix(base, path.Ext(base)), "main"
	}
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		return "postgres://unknown", "postgres", "public"
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "5432"
	}
	db = strings.TrimPrefix(u.Path, "/")
	if db == "" {
		db = u.User.Username()
	}
	if db == "" {
		db = "postgres"
	}
	return "postgres://" + net.JoinHostPort(host, port), db, "public"
}
