package k8s

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// check is one property every rendered kustomization must have; it
// returns every violation, each naming the object.
type check struct {
	name string
	run  func(m *manifests, ds []*deployed) []error
}

// checks are run on the base and on each overlay.
var checks = []check{
	{"environment", checkEnvironment},
	{"configuration", checkConfiguration},
	{"ports and probes", checkPortsAndProbes},
	{"security", checkSecurity},
	{"resources", checkResources},
	{"writable paths", checkWritablePaths},
	{"companions", checkCompanions},
	{"network policies", checkNetworkPolicies},
	{"scaling", checkScaling},
	{"topics", checkTopics},
	{"service monitors", checkServiceMonitors},
}

// checkEnvironment: every variable is one the service reads, every
// required one is set, and secrets never come from a literal or a ConfigMap.
func checkEnvironment(m *manifests, ds []*deployed) []error {
	var errs []error
	for _, d := range ds {
		known := map[string]string{}
		for _, v := range d.svc.vars {
			known[v.Name] = v.Type
		}
		for _, n := range append(slices.Clone(runtimeEnv), d.cfg.extraEnv...) {
			if _, ok := known[n]; !ok {
				known[n] = "extra"
			}
		}
		for name, v := range d.env {
			typ, ok := known[name]
			if !ok {
				errs = append(errs, fmt.Errorf("%s: %s (%s) is not a variable %s reads", d.where(m), name, v.source, d.svc.name))
			}
			secret := typ == "telemetry.Secret" || strings.Contains(name, "PASSWORD") || strings.Contains(name, "TOKEN") ||
				strings.Contains(name, "SECRET") || strings.Contains(name, "_DSN") || strings.HasSuffix(name, "_URL") && typ == "extra"
			if secret && !strings.HasPrefix(v.source, "secret ") && !strings.HasSuffix(name, "_FILE") {
				errs = append(errs, fmt.Errorf("%s: %s is a secret but comes from %s", d.where(m), name, v.source))
			}
		}
		for _, v := range d.svc.vars {
			if _, ok := d.env[v.Name]; v.Required && !ok {
				errs = append(errs, fmt.Errorf("%s: required variable %s is not set", d.where(m), v.Name))
			}
		}
	}
	return errs
}

// checkConfiguration: the configuration the manifests give validates.
func checkConfiguration(m *manifests, ds []*deployed) []error {
	var errs []error
	for _, d := range ds {
		if d.cfg.valid != nil {
			errs = append(errs, fmt.Errorf("%s: configuration does not validate: %w", d.where(m), d.cfg.valid))
		}
	}
	return errs
}

// checkPortsAndProbes: container ports are exactly the addresses the
// service listens on, on every interface; the three probes are gRPC on the
// Control port; the grace period outlasts the service's drain.
func checkPortsAndProbes(m *manifests, ds []*deployed) []error {
	var errs []error
	for _, d := range ds {
		want := map[int32]string{}
		for name, addr := range d.cfg.listen {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %s %q: %w", d.where(m), name, addr, err))
				continue
			}
			if host != "" && host != "0.0.0.0" && host != "::" {
				errs = append(errs, fmt.Errorf("%s: %s %q listens on %s only, unreachable from other pods", d.where(m), name, addr, host))
			}
			p, _ := strconv.Atoi(port)
			want[int32(p)] = name
		}
		have := map[int32]bool{}
		for _, p := range d.ctr.Ports {
			have[p.ContainerPort] = true
			if _, ok := want[p.ContainerPort]; !ok {
				errs = append(errs, fmt.Errorf("%s: container port %s/%d is no address the service listens on", d.where(m), p.Name, p.ContainerPort))
			}
			if p.Name == "" {
				errs = append(errs, fmt.Errorf("%s: container port %d has no name", d.where(m), p.ContainerPort))
			}
		}
		for p, name := range want {
			if !have[p] {
				errs = append(errs, fmt.Errorf("%s: %s listens on %d but the container declares no such port", d.where(m), name, p))
			}
		}
		_, ctlPort, _ := net.SplitHostPort(d.cfg.control)
		for kind, p := range map[string]*corev1.Probe{"startupProbe": d.ctr.StartupProbe, "livenessProbe": d.ctr.LivenessProbe, "readinessProbe": d.ctr.ReadinessProbe} {
			switch {
			case p == nil:
				errs = append(errs, fmt.Errorf("%s: no %s", d.where(m), kind))
			case p.GRPC == nil:
				errs = append(errs, fmt.Errorf("%s: %s is not a gRPC probe", d.where(m), kind))
			case strconv.Itoa(int(p.GRPC.Port)) != ctlPort:
				errs = append(errs, fmt.Errorf("%s: %s probes port %d, the Control (gRPC health) listens on %s", d.where(m), kind, p.GRPC.Port, d.cfg.control))
			}
		}
		grace := d.dep.Spec.Template.Spec.TerminationGracePeriodSeconds
		if grace == nil || float64(*grace) <= d.cfg.shutdown.Seconds() {
			errs = append(errs, fmt.Errorf("%s: terminationGracePeriodSeconds must exceed the drain of %s", d.where(m), d.cfg.shutdown))
		}
	}
	return errs
}

// checkSecurity: non-root uid 65532, read-only root, no privilege
// escalation, no capabilities, RuntimeDefault seccomp, no service account
// token, the image riacho/<service> with a tag.
func checkSecurity(m *manifests, ds []*deployed) []error {
	var errs []error
	for _, d := range ds {
		pod := d.dep.Spec.Template.Spec
		bad := func(what string) { errs = append(errs, fmt.Errorf("%s: %s", d.where(m), what)) }
		if psc := pod.SecurityContext; psc == nil || !isTrue(psc.RunAsNonRoot) || psc.RunAsUser == nil || *psc.RunAsUser != 65532 ||
			psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			bad("pod securityContext must set runAsNonRoot, runAsUser 65532 and seccompProfile RuntimeDefault")
		}
		sc := d.ctr.SecurityContext
		switch {
		case sc == nil:
			bad("container has no securityContext")
		case !isTrue(sc.RunAsNonRoot) || sc.RunAsUser == nil || *sc.RunAsUser != 65532:
			bad("container must run as non-root user 65532")
		case !isTrue(sc.ReadOnlyRootFilesystem):
			bad("container root filesystem must be read-only")
		case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
			bad("container must set allowPrivilegeEscalation: false")
		case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
			bad("container must drop ALL capabilities and add none")
		case sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
			bad("container seccompProfile must be RuntimeDefault")
		}
		if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
			bad("pod must set automountServiceAccountToken: false")
		}
		sa := findByName(m.serviceAccounts, pod.ServiceAccountName, func(s *corev1.ServiceAccount) string { return s.Name })
		if sa == nil || sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
			bad(fmt.Sprintf("ServiceAccount %q missing or mounting its token", pod.ServiceAccountName))
		}
		repo, tag, ok := strings.Cut(d.ctr.Image, ":")
		if !ok || repo != "riacho/"+d.svc.name || tag == "" {
			bad(fmt.Sprintf("image %q is not riacho/%s:<tag>", d.ctr.Image, d.svc.name))
		}
	}
	return errs
}

// checkResources: requests and limits of CPU and memory, requests within
// limits, and GOMEMLIMIT at most 90% of the memory limit.
func checkResources(m *manifests, ds []*deployed) []error {
	var errs []error
	for _, d := range ds {
		r := d.ctr.Resources
		for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, okr := r.Requests[name]
			lim, okl := r.Limits[name]
			if !okr || !okl {
				errs = append(errs, fmt.Errorf("%s: %s request and limit must both be set", d.where(m), name))
				continue
			}
			if req.Cmp(lim) > 0 {
				errs = append(errs, fmt.Errorf("%s: %s request %s exceeds its limit %s", d.where(m), name, req.String(), lim.String()))
			}
		}
		v, ok := d.env["GOMEMLIMIT"]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: GOMEMLIMIT is not set", d.where(m)))
			continue
		}
		n, err := goMemLimit(v.value)
		lim := r.Limits[corev1.ResourceMemory]
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: GOMEMLIMIT: %w", d.where(m), err))
		} else if n*10 > lim.Value()*9 {
			errs = append(errs, fmt.Errorf("%s: GOMEMLIMIT %s is over 90%% of the memory limit %s", d.where(m), v.value, lim.String()))
		}
	}
	return errs
}

// goMemLimit parses GOMEMLIMIT: bytes with an optional B, KiB, MiB, GiB or TiB suffix.
func goMemLimit(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}, {"", 1}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			n, err := strconv.ParseInt(num, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("%q is not a size", s)
			}
			return n * u.mult, nil
		}
	}
	return 0, fmt.Errorf("%q is not a size", s)
}

// checkWritablePaths: content mounts are read-only, /tmp is an emptyDir,
// and every local path the service writes lies on an emptyDir.
func checkWritablePaths(m *manifests, ds []*deployed) []error {
	var errs []error
	for _, d := range ds {
		empty := map[string]bool{}
		for _, v := range d.dep.Spec.Template.Spec.Volumes {
			empty[v.Name] = v.EmptyDir != nil
		}
		var writable []string
		for _, vm := range d.ctr.VolumeMounts {
			if empty[vm.Name] {
				writable = append(writable, vm.MountPath)
			} else if !vm.ReadOnly {
				errs = append(errs, fmt.Errorf("%s: volumeMount %s must be readOnly", d.where(m), vm.Name))
			}
		}
		if !slices.Contains(writable, "/tmp") {
			errs = append(errs, fmt.Errorf("%s: /tmp is not an emptyDir", d.where(m)))
		}
		for _, p := range d.cfg.writable {
			if !slices.ContainsFunc(writable, func(mp string) bool { return strings.HasPrefix(p, strings.TrimSuffix(mp, "/")+"/") }) {
				errs = append(errs, fmt.Errorf("%s: the service writes %s, which is on the read-only root filesystem", d.where(m), p))
			}
		}
	}
	return errs
}

// checkCompanions: each Deployment has a ServiceAccount, a PDB and a
// Service selecting its pods; the Service's ports target named container ports.
func checkCompanions(m *manifests, ds []*deployed) []error {
	var errs []error
	for _, d := range ds {
		pods := labels.Set(d.dep.Spec.Template.Labels)
		if sel, err := metav1.LabelSelectorAsSelector(d.dep.Spec.Selector); err != nil || !sel.Matches(pods) {
			errs = append(errs, fmt.Errorf("%s: selector does not match its pod template", d.where(m)))
		}
		found := false
		for _, p := range m.pdbs {
			if sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector); err == nil && sel.Matches(pods) {
				found = true
			}
		}
		if !found {
			errs = append(errs, fmt.Errorf("%s: no PodDisruptionBudget selects its pods", d.where(m)))
		}
		found = false
		for _, s := range m.services {
			if len(s.Spec.Selector) == 0 || !labels.SelectorFromSet(s.Spec.Selector).Matches(pods) {
				continue
			}
			found = true
			for _, sp := range s.Spec.Ports {
				if sp.Name == "" || sp.TargetPort.Type != intstr.String || !slices.ContainsFunc(d.ctr.Ports, func(p corev1.ContainerPort) bool { return p.Name == sp.TargetPort.StrVal }) {
					errs = append(errs, fmt.Errorf("%s: Service %s port %q must be named and target a named container port", m.target, s.Name, sp.Name))
				}
			}
		}
		if !found {
			errs = append(errs, fmt.Errorf("%s: no Service selects its pods", d.where(m)))
		}
	}
	return errs
}

// checkNetworkPolicies: a policy selects each service's pods for ingress
// and egress; its ingress names only the container's ports and covers every
// one; egress reaches DNS and Kafka.
func checkNetworkPolicies(m *manifests, ds []*deployed) []error {
	var errs []error
	for _, d := range ds {
		pods := labels.Set(d.dep.Spec.Template.Labels)
		var np *networkingv1.NetworkPolicy
		for _, p := range m.netpols {
			if sel, err := metav1.LabelSelectorAsSelector(&p.Spec.PodSelector); err == nil && !sel.Empty() && sel.Matches(pods) {
				np = p
			}
		}
		if np == nil {
			errs = append(errs, fmt.Errorf("%s: no NetworkPolicy selects its pods", d.where(m)))
			continue
		}
		where := fmt.Sprintf("%s: NetworkPolicy %s", m.target, np.Name)
		if !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) || !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) {
			errs = append(errs, fmt.Errorf("%s: policyTypes must hold Ingress and Egress", where))
		}
		covered := map[string]bool{}
		for _, rule := range np.Spec.Ingress {
			if len(rule.From) == 0 || len(rule.Ports) == 0 {
				errs = append(errs, fmt.Errorf("%s: an ingress rule must name its peers and ports", where))
			}
			for _, p := range rule.Ports {
				name := containerPortName(d.ctr, p.Port)
				if name == "" {
					errs = append(errs, fmt.Errorf("%s: ingress port %v is not a port of container %s", where, p.Port, d.ctr.Name))
				}
				covered[name] = true
			}
		}
		for _, p := range d.ctr.Ports {
			if !covered[p.Name] {
				errs = append(errs, fmt.Errorf("%s: container port %s is reachable by nobody", where, p.Name))
			}
		}
		kafkaPort := 9092
		if len(d.cfg.brokers) > 0 {
			if _, p, err := net.SplitHostPort(d.cfg.brokers[0]); err == nil {
				kafkaPort, _ = strconv.Atoi(p)
			}
		}
		for what, port := range map[string]int{"DNS": 53, "Kafka": kafkaPort} {
			if !egressAllows(np, port) {
				errs = append(errs, fmt.Errorf("%s: egress does not allow %s (port %d)", where, what, port))
			}
		}
	}
	return errs
}

// containerPortName is the name of the container port p refers to, or "".
func containerPortName(c *corev1.Container, p *intstr.IntOrString) string {
	if p == nil {
		return ""
	}
	for _, cp := range c.Ports {
		if (p.Type == intstr.String && p.StrVal == cp.Name) || (p.Type == intstr.Int && p.IntVal == cp.ContainerPort) {
			return cp.Name
		}
	}
	return ""
}

// egressAllows reports whether some egress rule allows the numbered port.
func egressAllows(np *networkingv1.NetworkPolicy, port int) bool {
	for _, rule := range np.Spec.Egress {
		for _, p := range rule.Ports {
			if p.Port != nil && p.Port.Type == intstr.Int && int(p.Port.IntVal) == port {
				return true
			}
		}
	}
	return false
}

// checkScaling: every consumer has a ScaledObject on its Deployment with
// one kafka trigger per consumer group, on the service's brokers and
// topics, with no more replicas than partitions; the Deployment leaves
// replicas to KEDA. intake and cdc are not scaled by KEDA; cdc runs one
// replica, never two at once.
func checkScaling(m *manifests, ds []*deployed) []error {
	var errs []error
	for _, d := range ds {
		var so *scaledObject
		for _, s := range m.scaledObjects {
			if s.Spec.ScaleTargetRef.Name == d.dep.Name && (s.Spec.ScaleTargetRef.Kind == "" || s.Spec.ScaleTargetRef.Kind == "Deployment") {
				so = s
			}
		}
		if !d.svc.consumer {
			if so != nil {
				errs = append(errs, fmt.Errorf("%s: ScaledObject %s scales a service without consumer groups", d.where(m), so.Metadata.Name))
			}
			continue
		}
		if so == nil {
			errs = append(errs, fmt.Errorf("%s: consumer without a ScaledObject", d.where(m)))
			continue
		}
		errs = append(errs, checkScaledObject(m, d, so)...)
	}
	for _, d := range ds {
		if d.svc.name != "cdc" {
			continue
		}
		if d.dep.Spec.Replicas == nil || *d.dep.Spec.Replicas != 1 || d.dep.Spec.Strategy.Type != "Recreate" {
			errs = append(errs, fmt.Errorf("%s: cdc must run exactly one replica with strategy Recreate (one reader per replication slot)", d.where(m)))
		}
	}
	return errs
}

// checkScaledObject checks one consumer's ScaledObject.
func checkScaledObject(m *manifests, d *deployed, so *scaledObject) []error {
	var errs []error
	where := fmt.Sprintf("%s: ScaledObject %s", m.target, so.Metadata.Name)
	if d.dep.Spec.Replicas != nil {
		errs = append(errs, fmt.Errorf("%s: Deployment %s sets replicas, which every apply would reset under KEDA", where, d.dep.Name))
	}
	triggered := map[string]bool{}
	for i, tr := range so.Spec.Triggers {
		if tr.Type != "kafka" {
			errs = append(errs, fmt.Errorf("%s: trigger %d is %q, not kafka", where, i, tr.Type))
			continue
		}
		g, ok := d.cfg.groups[tr.Metadata["consumerGroup"]]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: consumerGroup %q is none of %s's groups %v", where, tr.Metadata["consumerGroup"], d.svc.name, sortedKeys(d.cfg.groups)))
			continue
		}
		triggered[tr.Metadata["consumerGroup"]] = true
		if bs := tr.Metadata["bootstrapServers"]; bs != strings.Join(d.cfg.brokers, ",") {
			errs = append(errs, fmt.Errorf("%s: bootstrapServers %q differ from RIACHO_KAFKA_BROKERS %v", where, bs, d.cfg.brokers))
		}
		if _, err := strconv.Atoi(tr.Metadata["lagThreshold"]); err != nil {
			errs = append(errs, fmt.Errorf("%s: lagThreshold %q is not a number", where, tr.Metadata["lagThreshold"]))
		}
		inputs := groupTopics(m, g)
		if t := tr.Metadata["topic"]; t != "" && !slices.Contains(inputs, t) {
			errs = append(errs, fmt.Errorf("%s: topic %q is not read by group %s (%v)", where, t, tr.Metadata["consumerGroup"], inputs))
		}
		if max := so.Spec.MaxReplicaCount; max != nil && *max > partitions(m, inputs) {
			errs = append(errs, fmt.Errorf("%s: maxReplicaCount %d exceeds the %d partitions group %s reads", where, *max, partitions(m, inputs), tr.Metadata["consumerGroup"]))
		}
	}
	for name := range d.cfg.groups {
		if !triggered[name] {
			errs = append(errs, fmt.Errorf("%s: no kafka trigger for consumer group %s", where, name))
		}
	}
	if mn, mx := so.Spec.MinReplicaCount, so.Spec.MaxReplicaCount; mn == nil || *mn < 1 || (mx != nil && *mx < *mn) {
		errs = append(errs, fmt.Errorf("%s: minReplicaCount must be at least 1 and at most maxReplicaCount", where))
	}
	return errs
}

// groupTopics lists a group's input topics, its pattern matched against the KafkaTopics.
func groupTopics(m *manifests, g group) []string {
	if g.pattern == nil {
		return g.topics
	}
	var out []string
	for _, t := range m.topics {
		if g.pattern.MatchString(t.name()) {
			out = append(out, t.name())
		}
	}
	return out
}

// partitions sums the partitions of the named KafkaTopics.
func partitions(m *manifests, topics []string) int32 {
	var n int32
	for _, t := range m.topics {
		if slices.Contains(topics, t.name()) {
			n += t.Spec.Partitions
		}
	}
	return n
}

var topicName = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)

// checkTopics: every topic a service names has a KafkaTopic; each topic is
// declared once, for the cluster "riacho", with a valid cleanup policy and
// at least min.insync.replicas replicas.
func checkTopics(m *manifests, ds []*deployed) []error {
	var errs []error
	declared := map[string]bool{}
	for _, t := range m.topics {
		where := fmt.Sprintf("%s: KafkaTopic %s", m.target, t.Metadata.Name)
		if declared[t.name()] {
			errs = append(errs, fmt.Errorf("%s: topic %s declared twice", where, t.name()))
		}
		declared[t.name()] = true
		if !topicName.MatchString(t.name()) {
			errs = append(errs, fmt.Errorf("%s: %q is not a Kafka topic name", where, t.name()))
		}
		if t.Metadata.Labels["strimzi.io/cluster"] != "riacho" {
			errs = append(errs, fmt.Errorf("%s: label strimzi.io/cluster must be riacho", where))
		}
		if t.Spec.Partitions < 1 || t.Spec.Replicas < 1 {
			errs = append(errs, fmt.Errorf("%s: partitions and replicas must be positive", where))
		}
		if p := fmt.Sprint(t.Spec.Config["cleanup.policy"]); !slices.Contains([]string{"delete", "compact", "compact,delete", "delete,compact"}, p) {
			errs = append(errs, fmt.Errorf("%s: cleanup.policy %q", where, p))
		}
		isr, err := strconv.Atoi(fmt.Sprint(t.Spec.Config["min.insync.replicas"]))
		if err != nil || isr < 1 || int32(isr) > t.Spec.Replicas {
			errs = append(errs, fmt.Errorf("%s: min.insync.replicas %v must be between 1 and replicas %d", where, t.Spec.Config["min.insync.replicas"], t.Spec.Replicas))
		}
	}
	for _, d := range ds {
		for _, name := range d.cfg.topics {
			if !declared[name] {
				errs = append(errs, fmt.Errorf("%s: topic %s has no KafkaTopic", d.where(m), name))
			}
		}
	}
	return errs
}

// checkServiceMonitors: each ServiceMonitor endpoint names a port of a
// Service it selects.
func checkServiceMonitors(m *manifests, _ []*deployed) []error {
	var errs []error
	for _, sm := range m.serviceMonitors {
		sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: ServiceMonitor %s: %w", m.target, sm.Name, err))
			continue
		}
		var selected []*corev1.Service
		for _, s := range m.services {
			if sel.Matches(labels.Set(s.Labels)) {
				selected = append(selected, s)
			}
		}
		if len(selected) == 0 {
			errs = append(errs, fmt.Errorf("%s: ServiceMonitor %s selects no Service", m.target, sm.Name))
		}
		for _, ep := range sm.Spec.Endpoints {
			for _, s := range selected {
				if ep.Port != "" && !slices.ContainsFunc(s.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == ep.Port }) {
					errs = append(errs, fmt.Errorf("%s: ServiceMonitor %s scrapes port %q, which Service %s does not have", m.target, sm.Name, ep.Port, s.Name))
				}
			}
		}
	}
	return errs
}

func isTrue(b *bool) bool { return b != nil && *b }

// findByName returns the element of list whose name is name, or nil.
func findByName[T any](list []*T, name string, nameOf func(*T) string) *T {
	for _, x := range list {
		if nameOf(x) == name {
			return x
		}
	}
	return nil
}

// sortedKeys returns the keys of a map in order.
func sortedKeys[V any](mp map[string]V) []string {
	keys := make([]string, 0, len(mp))
	for k := range mp {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
