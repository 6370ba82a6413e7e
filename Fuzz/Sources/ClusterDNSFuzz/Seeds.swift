import DNSWire
#if canImport(Glibc)
import Glibc
#endif

/// The seed corpora: a few valid inputs of each target's kind, so the fuzzer starts from the
/// shapes that reach deep code. Written by `clusterdns-fuzz seeds DIR`.
enum Seeds {
    static func write(to directory: String) throws {
        for target in FuzzTarget.allCases {
            let folder = directory + "/" + target.rawValue
            mkdir(folder, 0o755)
            for (index, seed) in try seeds(for: target).enumerated() {
                let path = folder + "/seed-\(index)"
                guard let file = fopen(path, "wb") else { throw SeedError.cannotWrite(path) }
                _ = seed.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
                fclose(file)
            }
        }
    }

    enum SeedError: Error { case cannotWrite(String) }

    static func seeds(for target: FuzzTarget) throws -> [[UInt8]] {
        switch target {
        case .responder:
            let questions: [(String, RecordType)] = [
                ("nginx.default.svc.cluster.local", .a), ("nginx-headless.default.svc.cluster.local", .a),
                ("_http._tcp.nginx.default.svc.cluster.local", .srv), ("10.0.96.10.in-addr.arpa", .ptr),
                ("1-2-3-4.default.pod.cluster.local", .a), ("dns-version.cluster.local", .txt), ("cluster.local", .soa),
                ("example.com", .aaaa), ("www.example.internal", .a),
            ]
            return try questions.enumerated().map { index, question in
                var message = DNSMessage(
                    questions: [DNSQuestion(name: try DomainName(question.0), type: question.1)],
                    edns: index % 2 == 0 ? EDNSRecord(udpPayloadSize: 1232) : nil)
                message.header.id = UInt16(index)
                message.header[.recursionDesired] = true
                return message.encoded()
            }
        case .manifest:
            return [
                "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec:\n  clusterIP: 10.96.0.10\n  ports: [{name: http, port: 80, protocol: TCP}]\n",
                "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: web-abcde\n  namespace: default\n  labels: {kubernetes.io/service-name: web}\naddressType: IPv4\nendpoints:\n- addresses: [10.1.0.1]\n  conditions: {ready: true}\n  hostname: web-0\nports: [{name: http, port: 8080, protocol: TCP}]\n",
                "apiVersion: v1\nkind: Service\nmetadata: {name: ext, namespace: default}\nspec: {type: ExternalName, externalName: example.com}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: default}\n",
                #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"default"},"status":{"podIP":"10.1.0.9","podIPs":[{"ip":"10.1.0.9"}]}}"#,
                // Issue #12: an aliased Service, a ServiceImport and a slice with only the multicluster labels.
                "apiVersion: v1\nkind: Service\nmetadata:\n  name: ingress\n  namespace: shop\n  creationTimestamp: \"2024-01-01T00:00:00Z\"\n  annotations: {clusterdns.io/aliases: \"api.example.com, www.example.com.\"}\nspec: {clusterIP: 10.96.5.5}\n",
                "apiVersion: multicluster.x-k8s.io/v1beta1\nkind: ServiceImport\nmetadata: {name: hello, namespace: shop}\nspec:\n  type: ClusterSetIP\n  ips: [10.42.0.1, \"fd00:42::1\"]\n  ports: [{name: tcp, protocol: TCP, port: 42}]\n",
                "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: db-a\n  namespace: shop\n  labels: {multicluster.kubernetes.io/service-name: db, multicluster.kubernetes.io/source-cluster: cluster-a}\naddressType: IPv4\nendpoints: [{addresses: [10.1.0.5], hostname: db-0}]\nports: [{name: sql, port: 5432}]\n",
            ].map { Array($0.utf8) }
        case .apiEvent:
            let service = #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"default","uid":"u1","resourceVersion":"7","annotations":{"a":"b"},"managedFields":[{"manager":"kubectl","operation":"Update","fieldsV1":{"f:spec":{}}}]},"spec":{"clusterIP":"10.96.0.10","clusterIPs":["10.96.0.10"],"ports":[{"name":"http","port":80,"protocol":"TCP","targetPort":8080}]}}"#
            let slice = #"{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"web-abcde","namespace":"default","labels":{"kubernetes.io/service-name":"web"},"annotations":{"endpoints.kubernetes.io/last-change-trigger-time":"2026-12-03T10:00:00Z"}},"addressType":"IPv4","endpoints":[{"addresses":["10.1.0.1"],"conditions":{"ready":true},"hostname":"web-0","targetRef":{"kind":"Pod","name":"web-0"}}],"ports":[{"name":"http","port":8080,"protocol":"TCP"}]}"#
            let list = { (kind: String, item: String) in #"{"kind":"\#(kind)","apiVersion":"v1","metadata":{"resourceVersion":"42","continue":"abc"},"items":[\#(item)]}"# }
            return [
                [0x00] + Array(list("ServiceList", service).utf8),
                [0x01] + Array(list("EndpointSliceList", slice).utf8),
                [0x80] + Array(#"{"type":"ADDED","object":\#(service)}"#.utf8),
                [0x81] + Array(#"{"type":"DELETED","object":\#(slice)}"#.utf8),
                [0x80] + Array(#"{"type":"BOOKMARK","object":{"kind":"Service","metadata":{"resourceVersion":"99"}}}"#.utf8),
                [0x80] + Array(#"{"type":"ERROR","object":{"kind":"Status","code":410,"message":"too old"}}"#.utf8),
                // Issue #12: a ServiceImport (resource 4) and a multicluster slice.
                [0x84] + Array(#"{"type":"ADDED","object":{"apiVersion":"multicluster.x-k8s.io/v1beta1","kind":"ServiceImport","metadata":{"name":"db","namespace":"shop"},"spec":{"type":"Headless","ports":[{"name":"sql","protocol":"TCP","port":5432}]}}}"#.utf8),
                [0x81] + Array(#"{"type":"ADDED","object":{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"db-a","namespace":"shop","labels":{"multicluster.kubernetes.io/service-name":"db","multicluster.kubernetes.io/source-cluster":"cluster-a"}},"addressType":"IPv4","endpoints":[{"addresses":["10.1.0.5"],"hostname":"db-0"}]}}"#.utf8),
            ]
        case .tcpFraming:
            let query = try seeds(for: .responder)[0]
            let frame = [UInt8(query.count >> 8), UInt8(query.count & 0xFF)] + query
            return [[7] + frame + frame, [0] + frame + Array(frame.prefix(5)), [63] + [0, 0] + frame]
        case .forwarderReply:
            var seeds: [[UInt8]] = []
            for (selector, (name, type, data)) in [
                ("www.example.com", RecordType.a, RData.a(IPAddress("192.0.2.1")!)),
                ("Mixed.Example.ORG", .aaaa, .aaaa(IPAddress("2001:db8::1")!)),
                ("_sip._udp.example.net", .srv, .srv(SRVData(priority: 0, weight: 5, port: 5060, target: try DomainName("sip.example.net")))),
                ("example.com", .txt, .txt([Array("v=spf1 -all".utf8)])),
            ].enumerated() {
                let domain = try DomainName(name)
                var reply = DNSMessage(questions: [DNSQuestion(name: domain, type: type)], edns: selector == 1 ? nil : EDNSRecord(udpPayloadSize: 1232))
                reply.header.id = 0x1234
                reply.header[.response] = true
                reply.header[.recursionDesired] = true
                reply.answers = [
                    ResourceRecord(name: domain, ttl: 3600, data: data), ResourceRecord(name: domain, ttl: 2_147_483_647, data: data),
                ]
                seeds.append([UInt8(selector)] + reply.encoded())
            }
            return seeds
        }
    }
}
