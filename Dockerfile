# One multi-stage build for every riacho service: docker build --build-arg SERVICE=intake .
FROM golang:1.26-bookworm AS build
ARG SERVICE=intake
WORKDIR /src
COPY . .
RUN cd services/${SERVICE} && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/service ./cmd/${SERVICE}

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/service /riacho
USER nonroot:nonroot
ENTRYPOINT ["/riacho"]
