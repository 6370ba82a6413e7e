# syntax=docker/dockerfile:1
# ClusterDNS container image: a static-stdlib Swift binary on Debian slim with libldns.
#   docker build -t clusterdns .
#   docker run --rm -p 5353:53/udp -p 5353:53/tcp clusterdns
#   dig @127.0.0.1 -p 5353 nginx-service.myserver.svc.cluster.local

FROM swift:6.1-bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libldns-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Package.resolved is optional (gitignored); the glob copies it when present.
COPY Package.* ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product clusterdns --static-swift-stdlib \
 && install -D -m 0755 "$(swift build -c release --show-bin-path)/clusterdns" /out/clusterdns

FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libldns3 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin clusterdns
COPY --from=build /out/clusterdns /usr/local/bin/clusterdns
COPY zones/cluster /zones
# Non-root on port 53: Docker sets net.ipv4.ip_unprivileged_port_start=0 in a container's own
# network namespace; in Kubernetes add NET_BIND_SERVICE to the container's securityContext.
USER clusterdns
EXPOSE 53/udp 53/tcp
ENTRYPOINT ["clusterdns"]
CMD ["serve", "--manifests", "/zones", "--listen", "0.0.0.0:53"]
