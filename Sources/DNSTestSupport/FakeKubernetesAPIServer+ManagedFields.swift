import Foundation

/// What a real cluster adds to every object besides its spec, and clients must read past:
/// `metadata.managedFields` (server-side field ownership, one entry per manager, each a
/// fieldsV1 tree) and `kubectl apply`'s last-applied-configuration annotation (the whole
/// applied manifest as a JSON string). They make up most of an object's bytes.
extension FakeKubernetesAPIServer {
    static let lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

    static func managedFields(manager: String, apiVersion: String, fields: [String: Any]) -> [[String: Any]] {
        [[
            "manager": manager, "operation": "Update", "apiVersion": apiVersion, "time": created,
            "fieldsType": "FieldsV1", "fieldsV1": fields,
        ]]
    }

    /// The manifest as kubectl sent it, as kubectl stores it (compact JSON and a newline).
    static func lastAppliedConfiguration(kind: String, namespace: String, name: String, spec: [String: Any]) -> String {
        Core.serialize([
            "apiVersion": "v1", "kind": kind,
            "metadata": ["annotations": [String: Any](), "labels": ["app": name], "name": name, "namespace": namespace],
            "spec": spec,
        ]) + "\n"
    }

    /// The part of a Service's spec a user writes (the rest is defaulted by the API server).
    static func appliedServiceSpec(_ spec: [String: Any], headless: Bool) -> [String: Any] {
        var applied: [String: Any] = [:]
        for field in ["ports", "selector", "externalName"] { applied[field] = spec[field] }
        if spec["type"] as? String == "ExternalName" { applied["type"] = "ExternalName" }
        if headless { applied["clusterIP"] = "None" }
        return applied
    }

    static func serviceFieldsV1(_ applied: [String: Any]) -> [String: Any] {
        var spec: [String: Any] = ["f:internalTrafficPolicy": [:], "f:sessionAffinity": [:], "f:type": [:]]
        for field in applied.keys where field != "ports" { spec["f:\(field)"] = [String: Any]() }
        if let ports = applied["ports"] as? [[String: Any]] {
            var owned: [String: Any] = [".": [String: Any]()]
            for port in ports {
                let key = "k:{\"port\":\(port["port"] ?? 0),\"protocol\":\"\(port["protocol"] ?? "TCP")\"}"
                owned[key] = Dictionary(uniqueKeysWithValues: ([".", "f:port", "f:protocol", "f:targetPort"]
                    + (port["name"] == nil ? [] : ["f:name"])).map { ($0, [String: Any]()) })
            }
            spec["f:ports"] = owned
        }
        return [
            "f:metadata": [
                "f:annotations": [".": [String: Any](), "f:\(lastAppliedAnnotation)": [String: Any]()],
                "f:labels": [".": [String: Any](), "f:app": [String: Any]()],
            ],
            "f:spec": spec,
        ]
    }

    static func sliceFieldsV1(owner: String, annotated: Bool) -> [String: Any] {
        var metadata: [String: Any] = [
            "f:generateName": [String: Any](),
            "f:labels": [
                ".": [String: Any](), "f:endpointslice.kubernetes.io/managed-by": [String: Any](),
                "f:kubernetes.io/service-name": [String: Any](),
            ],
            "f:ownerReferences": [".": [String: Any](), "k:{\"uid\":\"\(owner)\"}": [String: Any]()],
        ]
        if annotated {
            metadata["f:annotations"] = [".": [String: Any](), "f:endpoints.kubernetes.io/last-change-trigger-time": [String: Any]()]
        }
        return ["f:addressType": [String: Any](), "f:endpoints": [String: Any](), "f:metadata": metadata, "f:ports": [String: Any]()]
    }
}
