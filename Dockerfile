# syntax=docker/dockerfile:1
# ClusterDNS container image: a static-stdlib Swift binary on Debian slim with libldns and libyaml.
#   docker build -t clusterdns .
#   docker run --rm -p 5353:53/udp -p 5353:53/tcp -p 8080:8080 -p 8181:8181 clusterdns
#   curl http://127.0.0.1:8181/ready
#   dig @127.0.0.1 -p 5353 nginx-service.myserver.svc.cluster.local

# 6.2 at least: swift-log, swift-metrics, swift-prometheus and async-http-client at the versions
# Package.swift asks for declare swift-tools-version 6.2 (scripts/image-check found it); 6.3 is
# the toolchain the project is built and tested with.
FROM swift:6.3-bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libldns-dev libyaml-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Package.resolved is optional (gitignored); the glob copies it when present.
COPY Package.* ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product clusterdns --static-swift-stdlib \
 && install -D -m 0755 "$(swift build -c release --show-bin-path)/clusterdns" /out/clusterdns

FROM debian:bookworm-slim
# The same numeric user and group as deploy/kubernetes/deployment.yaml (runAsUser/runAsGroup
# 10001): numeric, so the kubelet can check runAsNonRoot.
# iproute2 and nftables: node-local mode (`--node-local`, deploy/node-local) creates its
# interface with `ip` and its NOTRACK rules with `nft`.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libldns3 libyaml-0-2 iproute2 nftables \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 clusterdns \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin clusterdns
COPY --from=build /out/clusterdns /usr/local/bin/clusterdns
COPY zones/cluster /zones
# Non-root on port 53: the binary carries the NET_BIND_SERVICE file capability (as CoreDNS's
# image does), which `docker run` honours. Under `allowPrivilegeEscalation: false` (as in
# deploy/kubernetes) the kernel sets no_new_privs and ignores file capabilities: there the pod's
# `net.ipv4.ip_unprivileged_port_start` sysctl is what lets it bind :53 (scripts/image-check
# shows both). Docker also sets that sysctl to 0 in a container's own network namespace.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libcap2-bin \
 && setcap cap_net_bind_service=+ep /usr/local/bin/clusterdns \
 && apt-get purge -y --auto-remove libcap2-bin \
 && rm -rf /var/lib/apt/lists/*
USER 10001:10001
# DNS; /health (liveness); /ready (readiness); metrics (the kube-dns Service's 9153).
EXPOSE 53/udp 53/tcp 8080 8181 9153
# SIGTERM: /ready fails at once, DNS answers for --lameduck seconds (default 5), then exit 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["clusterdns"]
CMD ["serve", "--manifests", "/zones", "--listen", "0.0.0.0:53"]
