import Foundation

/// Generates manifests for tests that need shapes the demo does not have.
enum ManifestWriter {
    /// The `count` IPv4 addresses `10.<block>.<i / 250>.<i % 250 + 1>`.
    static func addresses(block: Int, count: Int) -> [String] {
        (0..<count).map { "10.\(block).\($0 / 250).\($0 % 250 + 1)" }
    }

    /// A headless Service with one named TCP port `web` 80 and an EndpointSlice holding
    /// `ready` endpoints (ready: true) and `notReady` ones (ready: false).
    static func headlessService(
        name: String, namespace: String, ready: [String], notReady: [String] = []
    ) -> String {
        let endpoints = (ready.map { ($0, true) } + notReady.map { ($0, false) }).map { address, isReady in
            """
              - addresses: ["\(address)"]
                conditions:
                  ready: \(isReady)

            """
        }.joined()
        return """
            apiVersion: v1
            kind: Service
            metadata:
              name: \(name)
              namespace: \(namespace)
            spec:
              clusterIP: None
              ports:
                - name: web
                  port: 80
                  protocol: TCP
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata:
              name: \(name)-abcde
              namespace: \(namespace)
              labels:
                kubernetes.io/service-name: \(name)
            addressType: IPv4
            ports:
              - name: web
                port: 80
                protocol: TCP
            endpoints:

            """ + endpoints
    }

    /// ClusterIP Services `s<i>` in namespace `n<i % 7>`, one document each.
    static func clusterIPServices(_ services: [(index: Int, clusterIP: String)]) -> String {
        services.map { index, clusterIP in
            """
            apiVersion: v1
            kind: Service
            metadata: {name: s\(index), namespace: n\(index % 7)}
            spec: {clusterIP: \(clusterIP), ports: [{name: http, port: 80}]}

            """
        }.joined(separator: "---\n")
    }
}
