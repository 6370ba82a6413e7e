import Foundation

/// Builders for objects shaped like kube-apiserver's own output (the extra fields a real
/// cluster adds included), so clients meet the real thing. Each returns JSON text for `put`.
extension FakeKubernetesAPIServer {
    public typealias Port = (name: String?, port: Int, proto: String)
    public typealias Address = (ip: String, ready: Bool, hostname: String?, podName: String?)

    static let created = "2024-05-01T12:00:00Z"

    /// A stable, UUID-shaped uid per object identity: re-putting an object keeps its uid, as an
    /// update does in a real cluster (a new uid would mean delete + create).
    public static func uid(_ identity: String) -> String {
        var hashes: [UInt64] = [0xcbf2_9ce4_8422_2325, 0x8422_2325_cbf2_9ce4]
        for index in hashes.indices {
            for byte in identity.utf8 { hashes[index] = (hashes[index] ^ UInt64(byte)) &* 0x100_0000_01b3 }
        }
        let hex = hashes.map { String(format: "%016llx", $0) }.joined()
        let digits = Array(hex)
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(digits[$0]) }.joined(separator: "-")
    }

    private static func metadata(
        _ kind: String, namespace: String?, name: String, labels: [String: String]
    ) -> [String: Any] {
        var metadata: [String: Any] = [
            "name": name, "uid": uid("\(kind)/\(Core.key(namespace: namespace, name: name))"),
            "creationTimestamp": created, "labels": labels,
        ]
        if let namespace { metadata["namespace"] = namespace }
        return metadata
    }

    /// A Service: ClusterIP by default (dual-stack with `secondaryClusterIP`), clusterIP "None"
    /// when `headless`, type ExternalName (no cluster IP at all) when `externalName` is given.
    /// As `kubectl apply` leaves it: the last-applied-configuration annotation and its managedFields.
    public static func service(
        namespace: String, name: String, clusterIP: String? = nil, ports: [Port] = [], headless: Bool = false,
        externalName: String? = nil, secondaryClusterIP: String? = nil
    ) -> String {
        var spec: [String: Any] = ["sessionAffinity": "None"]
        if !ports.isEmpty {
            spec["ports"] = ports.map { port -> [String: Any] in
                var entry: [String: Any] = ["port": port.port, "protocol": port.proto, "targetPort": port.port]
                if let name = port.name { entry["name"] = name }
                return entry
            }
        }
        if let externalName {
            spec["type"] = "ExternalName"
            spec["externalName"] = externalName
        } else {
            let ips = headless ? ["None"] : [clusterIP, secondaryClusterIP].compactMap { $0 }
            let families = (headless ? [clusterIP ?? "0.0.0.0"] : ips).map { $0.contains(":") ? "IPv6" : "IPv4" }
            spec["type"] = "ClusterIP"
            if let first = ips.first { spec["clusterIP"] = first }
            spec["clusterIPs"] = ips
            spec["ipFamilies"] = families
            spec["ipFamilyPolicy"] = families.count > 1 ? "PreferDualStack" : "SingleStack"
            spec["internalTrafficPolicy"] = "Cluster"
            spec["selector"] = ["app": name]
        }
        var metadata = metadata("Service", namespace: namespace, name: name, labels: ["app": name])
        let applied = appliedServiceSpec(spec, headless: headless)
        metadata["annotations"] = [
            lastAppliedAnnotation: lastAppliedConfiguration(kind: "Service", namespace: namespace, name: name, spec: applied),
        ]
        metadata["managedFields"] = managedFields(
            manager: "kubectl-client-side-apply", apiVersion: "v1", fields: serviceFieldsV1(applied))
        return Core.serialize([
            "kind": "Service", "apiVersion": "v1", "metadata": metadata,
            "spec": spec, "status": ["loadBalancer": [String: Any]()],
        ])
    }

    /// An EndpointSlice as the endpointslice controller writes it. Like the real apiserver it
    /// sends `"endpoints": null` / `"ports": null` when empty and `"name": ""` for unnamed ports.
    /// `lastChangeTriggerTime` (RFC 3339, e.g. "2024-05-01T12:00:00.5Z") becomes the
    /// `endpoints.kubernetes.io/last-change-trigger-time` annotation the controller sets.
    public static func endpointSlice(
        namespace: String, name: String, service: String, addresses: [Address], ports: [Port],
        lastChangeTriggerTime: String? = nil
    ) -> String {
        let endpoints = addresses.enumerated().map { index, address -> [String: Any] in
            let zone = "zone-\(index % 3)"
            var endpoint: [String: Any] = [
                "addresses": [address.ip],
                "conditions": ["ready": address.ready, "serving": address.ready, "terminating": false],
                "nodeName": "node-\(index + 1)", "zone": zone, "hints": ["forZones": [["name": zone]]],
            ]
            if let hostname = address.hostname { endpoint["hostname"] = hostname }
            if let pod = address.podName {
                endpoint["targetRef"] = [
                    "kind": "Pod", "name": pod, "namespace": namespace, "uid": uid("Pod/\(namespace)/\(pod)"),
                ]
            }
            return endpoint
        }
        var metadata = metadata(
            "EndpointSlice", namespace: namespace, name: name,
            labels: [
                "kubernetes.io/service-name": service,
                "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
            ])
        if let lastChangeTriggerTime {
            metadata["annotations"] = ["endpoints.kubernetes.io/last-change-trigger-time": lastChangeTriggerTime]
        }
        metadata["generateName"] = "\(service)-"
        metadata["generation"] = 1
        let owner = uid("Service/\(namespace)/\(service)")
        metadata["ownerReferences"] = [[
            "apiVersion": "v1", "kind": "Service", "name": service, "uid": owner,
            "controller": true, "blockOwnerDeletion": true,
        ]]
        metadata["managedFields"] = managedFields(
            manager: "kube-controller-manager", apiVersion: "discovery.k8s.io/v1",
            fields: sliceFieldsV1(owner: owner, annotated: lastChangeTriggerTime != nil))
        let isIPv6 = addresses.first?.ip.contains(":") ?? false
        return Core.serialize([
            "kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1", "metadata": metadata,
            "addressType": isIPv6 ? "IPv6" : "IPv4",
            "endpoints": endpoints.isEmpty ? NSNull() : endpoints,
            "ports": ports.isEmpty
                ? NSNull() : ports.map { ["name": $0.name ?? "", "port": $0.port, "protocol": $0.proto] as [String: Any] },
        ])
    }

    public static func namespace(name: String) -> String {
        Core.serialize([
            "kind": "Namespace", "apiVersion": "v1",
            "metadata": metadata("Namespace", namespace: nil, name: name, labels: ["kubernetes.io/metadata.name": name]),
            "spec": ["finalizers": ["kubernetes"]], "status": ["phase": "Active"],
        ])
    }

    public static func pod(namespace: String, name: String, ip: String, ready: Bool = true) -> String {
        let condition = ready ? "True" : "False"
        return Core.serialize([
            "kind": "Pod", "apiVersion": "v1",
            "metadata": metadata("Pod", namespace: namespace, name: name, labels: ["app": name]),
            "spec": [
                "containers": [["name": "app", "image": "registry.k8s.io/pause:3.9"]], "nodeName": "node-1",
                "restartPolicy": "Always", "dnsPolicy": "ClusterFirst",
            ],
            "status": [
                "phase": "Running", "podIP": ip, "podIPs": [["ip": ip]], "hostIP": "172.18.0.2",
                "conditions": [["type": "Ready", "status": condition], ["type": "ContainersReady", "status": condition]],
            ],
        ])
    }
}

extension FakeKubernetesAPIServer.TLSFiles {
    /// A fresh self-signed P-256 certificate for 127.0.0.1 and localhost, made with the openssl
    /// CLI (no X.509 library is a dependency here). The certificate is its own CA: clients
    /// trust `certificatePEM`.
    public static func selfSigned() throws -> Self {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fakeapi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let cert = directory.appendingPathComponent("cert.pem")
        let key = directory.appendingPathComponent("key.pem")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", key.path, "-out", cert.path,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Polls: waitUntilExit can hang when called off the main thread.
        for _ in 0..<500 where process.isRunning { usleep(10_000) }
        guard !process.isRunning, process.terminationStatus == 0 else {
            if process.isRunning { process.terminate() }
            throw DNSTestClient.Failure(description: "openssl could not make a test certificate")
        }
        return Self(
            certificatePEM: try String(contentsOf: cert, encoding: .utf8), keyPEM: try String(contentsOf: key, encoding: .utf8))
    }
}
