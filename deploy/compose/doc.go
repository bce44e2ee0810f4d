// Package compose holds the checks of riacho's docker-compose stack
// (docker-compose.yml, the Dockerfile, .env.example and the files under
// deploy/compose): the tests load the stack with compose-go and compare it
// with the configuration every service reads, the metrics it exports and the
// alert rules shared with Kubernetes.
package compose
