package k8s

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// The KEDA and Strimzi types below mirror the fields of their CRD schemas
// (keda.sh/v1alpha1 ScaledObject, kafka.strimzi.io/v1beta2 KafkaTopic)
// that the manifests use, so strict decoding still rejects a misspelt or
// misplaced field; the upstream Go API modules are far heavier than the
// check needs.

// scaledObject is a KEDA ScaledObject.
type scaledObject struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   metav1.ObjectMeta `json:"metadata"`
	Spec       scaledObjectSpec  `json:"spec"`
}

type scaledObjectSpec struct {
	ScaleTargetRef  scaleTarget   `json:"scaleTargetRef"`
	PollingInterval *int32        `json:"pollingInterval,omitempty"`
	CooldownPeriod  *int32        `json:"cooldownPeriod,omitempty"`
	MinReplicaCount *int32        `json:"minReplicaCount,omitempty"`
	MaxReplicaCount *int32        `json:"maxReplicaCount,omitempty"`
	Triggers        []kedaTrigger `json:"triggers"`
}

type scaleTarget struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind,omitempty"`
	Name       string `json:"name"`
}

// kedaTrigger's metadata is a map of strings in the CRD schema: a number
// written unquoted fails to decode, as it fails admission.
type kedaTrigger struct {
	Type              string            `json:"type"`
	Name              string            `json:"name,omitempty"`
	Metadata          map[string]string `json:"metadata"`
	AuthenticationRef *struct {
		Name string `json:"name"`
		Kind string `json:"kind,omitempty"`
	} `json:"authenticationRef,omitempty"`
}

// kafkaTopic is a Strimzi KafkaTopic.
type kafkaTopic struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   metav1.ObjectMeta `json:"metadata"`
	Spec       struct {
		TopicName  string         `json:"topicName,omitempty"`
		Partitions int32          `json:"partitions"`
		Replicas   int32          `json:"replicas"`
		Config     map[string]any `json:"config,omitempty"`
	} `json:"spec"`
}

// name is the Kafka topic: spec.topicName, else metadata.name.
func (k *kafkaTopic) name() string {
	if k.Spec.TopicName != "" {
		return k.Spec.TopicName
	}
	return k.Metadata.Name
}
