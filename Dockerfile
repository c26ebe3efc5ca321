# syntax=docker/dockerfile:1
# porthole serve in a container: the reference site and JSON API on port 8025, as a non-root user, on a
# distroless base (no shell, no package manager; CA certificates and /etc/passwd only).
#
#   docker build -t porthole \
#     --build-arg VERSION=v1.2.3 --build-arg REVISION=$(git rev-parse HEAD) .
#   docker run --rm -p 8025:8025 -v porthole-data:/data porthole
#
# The container listens on every interface of its own network namespace, so the site has no "On this
# machine" section (a container's sockets are not the host's). Feedback answers go to /data/feedback.db;
# give --db postgres://… to use PostgreSQL instead. Other commands run too: docker run --rm porthole info 2556.

# Build on the builder's own platform and cross-compile (CGO_ENABLED=0), so multi-platform builds
# (docker buildx build --platform linux/amd64,linux/arm64) need no emulation.
FROM --platform=$BUILDPLATFORM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG TARGETOS=linux
ARG TARGETARCH
# .git is not in the build context (.dockerignore), so the go command records no VCS revision: stamp the
# version and revision here, or `porthole version` says "dev".
ARG VERSION=
ARG REVISION=
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X github.com/porthole/porthole/internal/cli.Version=$VERSION -X github.com/porthole/porthole/internal/cli.Revision=$REVISION" \
      -o /out/porthole ./cmd/porthole \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/porthole /usr/bin/porthole
# The feedback database's directory, owned by the nonroot user (uid and gid 65532).
COPY --from=build --chown=65532:65532 /out/data /data
VOLUME /data
USER 65532:65532
EXPOSE 8025
ENTRYPOINT ["/usr/bin/porthole"]
CMD ["serve", "--addr", ":8025", "--db", "/data/feedback.db"]
