package cli

import (
	"fmt"
	"net"
	"slices"
	"strings"
)

// Endpoint is a named service gRPC address (its Control port; for metrics
// also the MetricsService).
type Endpoint struct {
	// Name is the service name accepted by --service.
	Name string
	// Addr is the service's gRPC address.
	Addr string
}

// DevstackEndpoints returns the addresses of the services in the devstack,
// in the order the pipeline table lists them.
func DevstackEndpoints() []Endpoint {
	return []Endpoint{
		{Name: "intake", Addr: "127.0.0.1:9101"},
		{Name: "cdc", Addr: "127.0.0.1:9102"},
		{Name: "sink", Addr: "127.0.0.1:9103"},
		{Name: "transform", Addr: "127.0.0.1:9104"},
		{Name: "quality", Addr: "127.0.0.1:9105"},
		{Name: "metrics", Addr: "127.0.0.1:9106"},
	}
}

// ParseEndpoints reads "name=host:port,name=host:port" (as in
// $RIACHO_ENDPOINTS), keeping the order given.
func ParseEndpoints(list string) ([]Endpoint, error) {
	var eps []Endpoint
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, addr, ok := strings.Cut(item, "=")
		name, addr = strings.TrimSpace(name), strings.TrimSpace(addr)
		if !ok || name == "" || addr == "" {
			return nil, fmt.Errorf("endpoint %q is not name=host:port", item)
		}
		if name == allServices {
			return nil, fmt.Errorf("endpoint name %q is reserved", name)
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil, fmt.Errorf("endpoint %s: %q is not host:port", name, addr)
		}
		if _, dup := lookupEndpoint(eps, name); dup {
			return nil, fmt.Errorf("endpoint %s given twice", name)
		}
		eps = append(eps, Endpoint{Name: name, Addr: addr})
	}
	if len(eps) == 0 {
		return nil, fmt.Errorf("no endpoints in %q", list)
	}
	return eps, nil
}

// allServices is the --service value that selects every endpoint.
const allServices = "all"

// lookupEndpoint finds a service by name.
func lookupEndpoint(eps []Endpoint, name string) (Endpoint, bool) {
	i := slices.IndexFunc(eps, func(e Endpoint) bool { return e.Name == name })
	if i < 0 {
		return Endpoint{}, false
	}
	return eps[i], true
}

// endpointNames lists the accepted --service values.
func endpointNames(eps []Endpoint) string {
	names := make([]string, 0, len(eps)+1)
	for _, e := range eps {
		names = append(names, e.Name)
	}
	return strings.Join(append(names, allServices), ", ")
}
