package k8s

import (
	"errors"
	"strings"
	"testing"
)

// TestChecksCatchBrokenManifests feeds the rendered dev overlay, broken in
// one place, through the same decoding, analysis and checks, and expects
// the break to be reported.
func TestChecksCatchBrokenManifests(t *testing.T) {
	stream := renderYAML(t, "overlays/dev")
	if _, _, err := loadStream(t, "overlays/dev", stream); err != nil {
		t.Fatalf("the unbroken rendering fails already: %v", err)
	}
	cases := []struct {
		name, old, new, want string
	}{
		{"unknown field", "readOnlyRootFilesystem: true", "readOnlyRootFilesytem: true", `Deployment/intake: json: unknown field "readOnlyRootFilesytem"`},
		{"unknown kind", "kind: KafkaTopic", "kind: KafkaTopix", "unknown kind"},
		{"scaler field misspelt", "scaleTargetRef:", "scaleTarget:", `unknown field "scaleTarget"`},
		{"scaler metadata not a string", `lagThreshold: "10000"`, "lagThreshold: 10000", "ScaledObject/sink: json: cannot unmarshal number"},
		{"unknown variable", "RIACHO_INTAKE_ADDR: :8080", "RIACHO_INTAKE_ADRR: :8080", "RIACHO_INTAKE_ADRR (configmap"},
		{"secret in a ConfigMap", "RIACHO_KAFKA_CLIENT_ID: riacho", "RIACHO_KAFKA_CLIENT_ID: riacho\n  RIACHO_KAFKA_SASL_PASSWORD: hunter2", "RIACHO_KAFKA_SASL_PASSWORD is a secret but comes from configmap"},
		{"invalid configuration", "RIACHO_SINK_DLQ_TOPIC: dlq.sink", "RIACHO_SINK_DLQ_TOPIC: raw.dlq", "matches RIACHO_SINK_DLQ_TOPIC"},
		{"loopback listener", "RIACHO_CDC_OPS_ADDR: :9202", "RIACHO_CDC_OPS_ADDR: 127.0.0.1:9202", "listens on 127.0.0.1 only"},
		{"port not declared", "RIACHO_QUALITY_OPS_ADDR: :9205", "RIACHO_QUALITY_OPS_ADDR: :9999", "listens on 9999 but the container declares no such port"},
		{"probe on the wrong port", "grpc:\n            port: 9104", "grpc:\n            port: 9204", "probes port 9204"},
		{"root user", "runAsUser: 65532\n          seccompProfile", "runAsUser: 0\n          seccompProfile", "container must run as non-root user 65532"},
		{"capabilities kept", "- ALL", "- NET_RAW", "drop ALL capabilities"},
		{"memory limit missing", "memory: 512Mi\n          requests", "ephemeral-storage: 1Gi\n          requests", "memory request and limit must both be set"},
		{"GOMEMLIMIT over the limit", "GOMEMLIMIT: 230MiB", "GOMEMLIMIT: 600MiB", "GOMEMLIMIT 600MiB is over 90%"},
		{"lake on the root filesystem", "RIACHO_SINK_LAKE_URL: s3://riacho-lake?endpoint=http://minio:9000&region=us-east-1&use_path_style=true", "RIACHO_SINK_LAKE_URL: file:///var/lib/riacho/lake", "writes /var/lib/riacho/lake"},
		{"configMap item missing", "key: models_sources.yml", "key: models_source.yml", "item key models_source.yml is not in ConfigMap"},
		{"secret key undocumented", "key: RIACHO_TRANSFORM_MASK_KEY", "key: RIACHO_TRANSFORM_MASKING_KEY", "RIACHO_TRANSFORM_MASKING_KEY is not declared"},
		{"PDB selects nothing", "name: quality\n  namespace: riacho-dev\nspec:\n  maxUnavailable: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: quality", "name: quality\n  namespace: riacho-dev\nspec:\n  maxUnavailable: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: qualty", "Deployment quality: no PodDisruptionBudget"},
		{"network policy without DNS", "port: 53\n      protocol: UDP\n    - port: 53", "port: 5353\n      protocol: UDP\n    - port: 5353", "egress does not allow DNS"},
		{"consumer group mismatch", "consumerGroup: riacho-sink", "consumerGroup: riacho-sinks", `consumerGroup "riacho-sinks" is none of sink's groups`},
		{"more replicas than partitions", "maxReplicaCount: 1\n  minReplicaCount: 1\n  pollingInterval: 30\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: metrics", "maxReplicaCount: 9\n  minReplicaCount: 1\n  pollingInterval: 30\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: metrics", "maxReplicaCount 9 exceeds the 3 partitions"},
		{"topic missing", "topicName: dlq.transform", "topicName: dlq.transforms", "topic dlq.transform has no KafkaTopic"},
		{"min.insync above replicas", "min.insync.replicas: 1", "min.insync.replicas: 2", "min.insync.replicas 2 must be between 1 and replicas 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(stream, tc.old) {
				t.Fatalf("the rendering has no %q to break", tc.old)
			}
			broken := strings.Replace(stream, tc.old, tc.new, 1)
			m, ds, err := loadStream(t, "overlays/dev", broken)
			if err == nil {
				err = runChecks(m, ds)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error containing %q, got: %v", tc.want, err)
			}
		})
	}
}

// TestOverlayChecksCatchBrokenManifests does the same for the checks of
// each overlay's own promises.
func TestOverlayChecksCatchBrokenManifests(t *testing.T) {
	cases := []struct {
		target, old, new, want string
		check                  func(*manifests, []*deployed) error
	}{
		{"overlays/dev", "image: riacho/cdc:dev", "image: riacho/cdc:latest", "riacho/cdc:latest is not tagged dev", checkDev},
		{"overlays/prod", "image: riacho/sink:0.1.0", "image: riacho/sink:latest", "riacho/sink:latest is not pinned", checkProd},
		{"overlays/prod", "minReplicaCount: 2", "minReplicaCount: 1", "at least 2 replicas wanted", checkProd},
		{"overlays/prod", "replicas: 3\n  topicName: _schemas", "replicas: 1\n  topicName: _schemas", "has 1 replicas, want 3", checkProd},
	}
	for _, tc := range cases {
		t.Run(tc.target+" "+tc.new, func(t *testing.T) {
			stream := renderYAML(t, tc.target)
			if !strings.Contains(stream, tc.old) {
				t.Fatalf("the rendering has no %q to break", tc.old)
			}
			m, ds, err := loadStream(t, tc.target, strings.Replace(stream, tc.old, tc.new, 1))
			if err == nil {
				err = tc.check(m, ds)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error containing %q, got: %v", tc.want, errors.Unwrap(err))
			}
		})
	}
}
