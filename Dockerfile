# One multi-stage build for every riacho service:
#   docker build --build-arg SERVICE=intake .
#   docker build --build-arg SERVICE=sink --build-arg RUNTIME=cc .
# RUNTIME=static (default) builds with CGO_ENABLED=0 onto distroless/static.
# metrics, sink and transform link DuckDB through cgo (github.com/duckdb/duckdb-go
# in their go.mod), so they need RUNTIME=cc: CGO_ENABLED=1 onto distroless/cc,
# which has the glibc and libstdc++ DuckDB's static library needs. The build
# refuses a DuckDB service with RUNTIME=static.
# riachoctl is copied into every image as /riachoctl: the images have no shell,
# and `riachoctl health` (gRPC health, no token needed) is their healthcheck.
ARG RUNTIME=static

FROM golang:1.26.8-bookworm AS build
ARG SERVICE=intake
ARG RUNTIME
ARG VERSION=dev
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    set -eu; \
    test -d "services/${SERVICE}/cmd/${SERVICE}" || { echo "unknown SERVICE=${SERVICE}" >&2; exit 1; }; \
    cgo=0; \
    if [ "${RUNTIME}" = cc ]; then cgo=1; \
    elif grep -q 'duckdb/duckdb-go' "services/${SERVICE}/go.mod"; then \
      echo "${SERVICE} links DuckDB through cgo: build it with --build-arg RUNTIME=cc" >&2; exit 1; \
    fi; \
    cd "services/${SERVICE}" && CGO_ENABLED=${cgo} go build -trimpath \
      -ldflags="-s -w -X github.com/riacho/riacho/services/${SERVICE}/app.Version=${VERSION}" \
      -o /out/service "./cmd/${SERVICE}"; \
    cd /src/services/riachoctl && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/riachoctl ./cmd/riachoctl

FROM gcr.io/distroless/${RUNTIME}-debian12:nonroot
COPY --from=build /out/service /riacho
COPY --from=build /out/riachoctl /riachoctl
USER nonroot:nonroot
ENTRYPOINT ["/riacho"]
