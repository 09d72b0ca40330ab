# CoreDNS with livesign, in CoreDNS's own image style: a static binary built beforehand, on an
# empty base, run as a non-root user.
#
#   make image        # = CGO_ENABLED=0 go build -trimpath -o bin/image/coredns ./cmd/coredns,
#                     #   setcap cap_net_bind_service=+ep bin/image/coredns,
#                     #   docker (or podman) build -t livesign-coredns .
#
# Nothing is pulled from a registry (FROM scratch). Without Go on the build machine use
# deploy/docker/Dockerfile.build instead, which compiles in a golang stage and ends with these
# same instructions.
#
# Run it with the Corefile, zone, bundle and trust anchor in /etc/coredns and the ZSK key files
# in /etc/livesign/keys, both mounted read-only; keys never go into the image (.dockerignore
# keeps them out of the build context):
#
#   docker run -p 53:53/udp -p 53:53/tcp \
#     -v $PWD/conf:/etc/coredns:ro -v $PWD/keys:/etc/livesign/keys:ro livesign-coredns
FROM scratch
# The binary carries the file capability cap_net_bind_service (set by make image, kept by COPY
# as an extended attribute), so the non-root user can bind :53, as in CoreDNS's image.
COPY bin/image/coredns /coredns
# Numeric uid/gid (distroless "nonroot" = 65532): Kubernetes can verify runAsNonRoot only with
# a numeric user.
USER 65532:65532
WORKDIR /
EXPOSE 53/udp 53/tcp
ENTRYPOINT ["/coredns"]
CMD ["-conf", "/etc/coredns/Corefile"]
