package cli

import (
	"slices"
	"strings"
)

// Endpoint is a named service control address.
type Endpoint struct {
	// Name is the service name accepted by --service.
	Name string
	// Addr is the service's control gRPC address.
	Addr string
}

// DevstackEndpoints returns the control addresses of the services in the
// devstack, in the order --service all lists them.
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
