// Package k8s holds the checks of riacho's Kubernetes deployment: the
// kustomize base and its dev and prod overlays are rendered with krusty,
// every object is decoded strictly into its API type, and the result is
// compared with the configuration each service reads (envconf.Variables of
// its Config), its ports, consumer groups and topics. The package has no
// code besides its tests.
package k8s
