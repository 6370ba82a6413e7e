import Foundation

/// Objects and list pages as kube-apiserver writes them: compact JSON, list items without
/// kind/apiVersion, metadata with uid, resourceVersion, labels, the last-applied-configuration
/// annotation, ownerReferences and managedFields (fieldsV1 trees); EndpointSlices with 2–3
/// endpoints carrying conditions, targetRef, nodeName, zone and hints. Every 10th Service is
/// headless, its endpoints have hostnames (as StatefulSet pods do).
enum SampleObjects {
    static func uid(_ n: Int, _ salt: Int) -> String {
        let a = String(format: "%08x", (n &* 2654435761 &+ salt) & 0xffffffff)
        let b = String(format: "%012x", (n &* 40503 &+ salt &* 7919) & 0xffffffffffff)
        return "\(a)-\(a.prefix(4))-4\(a.suffix(3))-9\(b.prefix(3))-\(b)"
    }

    static func service(_ n: Int) -> String {
        let ns = "ns\(n / 100)", name = "svc\(n)"
        let headless = n % 10 == 0
        let ip = headless ? "None" : "10.96.\(n / 256 % 256).\(n % 256)"
        let lastApplied = #"{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"annotations\":{},\"labels\":{\"app\":\"\#(name)\",\"app.kubernetes.io/part-of\":\"shop\"},\"name\":\"\#(name)\",\"namespace\":\"\#(ns)\"},\"spec\":{\"ports\":[{\"name\":\"http\",\"port\":80,\"protocol\":\"TCP\",\"targetPort\":8080},{\"name\":\"metrics\",\"port\":9090,\"protocol\":\"TCP\",\"targetPort\":9090}],\"selector\":{\"app\":\"\#(name)\"}\#(headless ? #",\"clusterIP\":\"None\""# : "")}}\n"#
        return #"{"metadata":{"name":"\#(name)","namespace":"\#(ns)","uid":"\#(uid(n, 1))","resourceVersion":"\#(1000 + n)","creationTimestamp":"2024-05-01T12:00:00Z","labels":{"app":"\#(name)","app.kubernetes.io/part-of":"shop"},"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"\#(lastApplied)"},"managedFields":[{"manager":"kubectl-client-side-apply","operation":"Update","apiVersion":"v1","time":"2024-05-01T12:00:00Z","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:annotations":{".":{},"f:kubectl.kubernetes.io/last-applied-configuration":{}},"f:labels":{".":{},"f:app":{},"f:app.kubernetes.io/part-of":{}}},"f:spec":{"f:internalTrafficPolicy":{},"f:ports":{".":{},"k:{\"port\":80,\"protocol\":\"TCP\"}":{".":{},"f:name":{},"f:port":{},"f:protocol":{},"f:targetPort":{}},"k:{\"port\":9090,\"protocol\":\"TCP\"}":{".":{},"f:name":{},"f:port":{},"f:protocol":{},"f:targetPort":{}}},"f:selector":{},"f:sessionAffinity":{},"f:type":{}}}}]},"spec":{"ports":[{"name":"http","protocol":"TCP","port":80,"targetPort":8080},{"name":"metrics","protocol":"TCP","port":9090,"targetPort":9090}],"selector":{"app":"\#(name)"},"clusterIP":"\#(ip)","clusterIPs":["\#(ip)"],"type":"ClusterIP","sessionAffinity":"None","ipFamilies":["IPv4"],"ipFamilyPolicy":"SingleStack","internalTrafficPolicy":"Cluster"},"status":{"loadBalancer":{}}}"#
    }

    static func slice(_ n: Int) -> String {
        let ns = "ns\(n / 100)", service = "svc\(n)", name = "svc\(n)-\(uid(n, 3).prefix(5))"
        let count = 2 + n % 2
        let endpoints = (0..<count).map { e in
            let pod = "\(service)-\(uid(n, 10 + e).prefix(10))-\(uid(n, 20 + e).prefix(5))"
            let hostname = n % 10 == 0 ? #""hostname":"\#(service)-\#(e)","# : ""
            return #"{"addresses":["10.\#(64 + e).\#(n / 256 % 256).\#(n % 256)"],"conditions":{"ready":true,"serving":true,"terminating":false},\#(hostname)"targetRef":{"kind":"Pod","namespace":"\#(ns)","name":"\#(pod)","uid":"\#(uid(n, 30 + e))"},"nodeName":"node-\#((n + e) % 50)","zone":"zone-\#(e % 3)","hints":{"forZones":[{"name":"zone-\#(e % 3)"}]}}"#
        }.joined(separator: ",")
        return #"{"metadata":{"name":"\#(name)","generateName":"\#(service)-","namespace":"\#(ns)","uid":"\#(uid(n, 2))","resourceVersion":"\#(200000 + n)","generation":3,"creationTimestamp":"2024-05-01T12:00:00Z","labels":{"app":"\#(service)","app.kubernetes.io/part-of":"shop","endpointslice.kubernetes.io/managed-by":"endpointslice-controller.k8s.io","kubernetes.io/service-name":"\#(service)"},"annotations":{"endpoints.kubernetes.io/last-change-trigger-time":"2024-05-01T12:00:0\#(n % 10).\#(n % 1000)Z"},"ownerReferences":[{"apiVersion":"v1","kind":"Service","name":"\#(service)","uid":"\#(uid(n, 1))","controller":true,"blockOwnerDeletion":true}],"managedFields":[{"manager":"kube-controller-manager","operation":"Update","apiVersion":"discovery.k8s.io/v1","time":"2024-05-01T12:00:00Z","fieldsType":"FieldsV1","fieldsV1":{"f:addressType":{},"f:endpoints":{},"f:metadata":{"f:annotations":{".":{},"f:endpoints.kubernetes.io/last-change-trigger-time":{}},"f:generateName":{},"f:labels":{".":{},"f:app":{},"f:app.kubernetes.io/part-of":{},"f:endpointslice.kubernetes.io/managed-by":{},"f:kubernetes.io/service-name":{}},"f:ownerReferences":{".":{},"k:{\"uid\":\"\#(uid(n, 1))\"}":{}}},"f:ports":{}}}]},"addressType":"IPv4","endpoints":[\#(endpoints)],"ports":[{"name":"http","protocol":"TCP","port":8080},{"name":"metrics","protocol":"TCP","port":9090}]}"#
    }

    static func page(kind: String, apiVersion: String, items: [String], rv: Int, last: Bool) -> String {
        let more = last ? "" : #","continue":"eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MTIzNDUsInN0YXJ0IjoibnMxL3N2YzEwMFx1MDAwMCJ9","remainingItemCount":99500"#
        return #"{"kind":"\#(kind)","apiVersion":"\#(apiVersion)","metadata":{"resourceVersion":"\#(rv)"\#(more)},"items":[\#(items.joined(separator: ","))]}"#
    }
}
