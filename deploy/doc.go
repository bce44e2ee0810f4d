// Package deploy holds the checks that keep riacho's deployment files honest:
// docker-compose.yml and the Kubernetes manifests are decoded strictly and
// compared with the configuration every service reads (see the tests under
// deploy/compose and deploy/k8s).
package deploy
