import ClusterRegistry
import Foundation
import XCTest
import YamsReference

/// The API's JSON read by `JSONDocument` must mean exactly what the Yams path made of it before
/// (issue #9): the same objects, and the same errors, field paths and lines for bad objects.
final class APIObjectDecoderEquivalenceTests: XCTestCase {
    private static let services = #"""
        {"kind":"ServiceList","apiVersion":"v1","metadata":{"resourceVersion":"4711","continue":"abc"},"items":[
        {"metadata":{"name":"web","namespace":"shop","uid":"0b0e","resourceVersion":"4700","labels":{"app":"web"},
         "creationTimestamp":"2024-01-01T00:00:00Z",
         "annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"apiVersion\":\"v1\",\"kind\":\"Service\"}\n",
          "clusterdns.io/aliases":" api.example.com,www.Example.com. ,,"},
         "managedFields":[{"manager":"kubectl","operation":"Update","fieldsType":"FieldsV1","fieldsV1":{"f:spec":{"f:ports":{".":{},"k:{\"port\":80,\"protocol\":\"TCP\"}":{}}}}}]},
         "spec":{"ports":[{"name":"http","protocol":"TCP","port":80,"targetPort":8080},{"port":"9090","targetPort":"metrics"}],
         "selector":{"app":"web"},"clusterIP":"10.96.4.2","clusterIPs":["10.96.4.2","fd00::4:2"],"type":"ClusterIP"},"status":{"loadBalancer":{}}},
        {"metadata":{"name":"db","namespace":""},"spec":{"clusterIP":"None","ports":[{"port":5432}],"publishNotReadyAddresses":true}},
        {"metadata":{"name":"ext","namespace":"shop"},"spec":{"type":"ExternalName","externalName":"example.com."}},
        {"metadata":{"name":"bad-ip","namespace":"shop"},"spec":{"clusterIP":"10.96.0.300","ports":[{"port":0},{"port":70000},{"port":1.5},{"port":"x"}]}},
        {"metadata":{"name":"bad-types","namespace":"shop","labels":["a"]},"spec":{"ports":{"port":80},"selector":"app","clusterIPs":[null,7,{}]}},
        {"metadata":{"name":"bad-kind","namespace":"shop"},"spec":{"type":"Weird","publishNotReadyAddresses":"perhaps"}},
        {"metadata":{"namespace":"shop"},"spec":{}},
        {"metadata":{"name":"","namespace":"shop"},"spec":null},
        {"metadata":"none","spec":{"type":"ExternalName"}},
        {"kind":"Service","apiVersion":"serving.knative.dev/v1","metadata":{"name":"kn","namespace":"shop"}},
        {"kind":7,"metadata":{"name":"k","namespace":"shop"}},
        {"metadata":{"name":"udp","namespace":"shop"},"spec":{"clusterIP":"","ports":[{"port":53,"protocol":"UDP","name":""},{"port":53,"protocol":"udp"}]}}
        ]}
        """#

    private static let slices = #"""
        {"kind":"EndpointSliceList","apiVersion":"discovery.k8s.io/v1","metadata":{"resourceVersion":"9"},"items":[
        {"metadata":{"name":"web-abc","namespace":"shop","labels":{"kubernetes.io/service-name":"web","x":null},
         "annotations":{"endpoints.kubernetes.io/last-change-trigger-time":"2024-05-01T12:00:00Z"}},"addressType":"IPv4",
         "endpoints":[{"addresses":["10.1.0.5"],"conditions":{"ready":true,"serving":true,"terminating":false},"hostname":"web-0",
           "targetRef":{"kind":"Pod","name":"web-0","namespace":"shop","uid":"u"},"nodeName":"n1","zone":"z1","hints":{"forZones":[{"name":"z1"}]}},
          {"addresses":["10.1.0.6"],"conditions":{"ready":false}},{"addresses":["10.1.0.7"],"conditions":{}}],
         "ports":[{"name":"http","protocol":"TCP","port":8080},{"name":"","port":null}]},
        {"metadata":{"name":"web-v6","namespace":"shop","labels":{"kubernetes.io/service-name":"web"}},"addressType":"IPv6",
         "endpoints":[{"addresses":["fd00::5","10.0.0.1"]}],"ports":null},
        {"metadata":{"name":"nolabel","namespace":"shop"},"addressType":"IPv4","endpoints":null},
        {"metadata":{"name":"fqdn","namespace":"shop","labels":{"kubernetes.io/service-name":"f"}},"addressType":"FQDN","endpoints":[{"addresses":["a.example"]}]},
        {"metadata":{"name":"odd","namespace":"shop","labels":{"kubernetes.io/service-name":"o"}},"addressType":"IPX",
         "endpoints":[{"addresses":"10.0.0.1","conditions":{"ready":"yes"},"targetRef":{"kind":"Node","name":"n"}},{"conditions":{"ready":"maybe"}}]}
        ]}
        """#

    private static let endpointsAndPods = #"""
        {"kind":"List","apiVersion":"v1","metadata":{"resourceVersion":"3"},"items":[
        {"kind":"Endpoints","apiVersion":"v1","metadata":{"name":"web","namespace":"shop"},"subsets":[
          {"addresses":[{"ip":"10.1.0.5","hostname":"h","targetRef":{"kind":"Pod","name":"p"}}],"notReadyAddresses":[{"ip":"x"}],
           "ports":[{"port":80,"protocol":"TCP"},{"name":"n"}]}]},
        {"kind":"Pod","apiVersion":"v1","metadata":{"name":"web-0","namespace":"shop","labels":{"app":"web"}},
         "spec":{"hostname":"web-0","subdomain":"web"},"status":{"podIP":"10.1.0.5","podIPs":[{"ip":"10.1.0.5"},{"ip":"fd00::5"}],
         "conditions":[{"type":"Ready","status":"True"}]}},
        {"kind":"Pod","apiVersion":"v1","metadata":{"name":"pending","namespace":"shop"},"status":{"podIPs":[{"ip":"bad"}],"conditions":[{"type":"Scheduled"}]}},
        {"kind":"Namespace","apiVersion":"v1","metadata":{"name":"shop"}},
        {"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"c"}}
        ]}
        """#

    func testServicesDecodeAlike() throws {
        try assertBothWaysAlike(Self.services, defaults: ("v1", "Service"), expectingObjects: 3)
    }

    func testEndpointSlicesDecodeAlike() throws {
        try assertBothWaysAlike(Self.slices, defaults: ("discovery.k8s.io/v1", "EndpointSlice"), expectingObjects: 2)
    }

    func testEndpointsPodsAndNamespacesDecodeAlike() throws {
        try assertBothWaysAlike(Self.endpointsAndPods, defaults: ("v1", "List"), expectingObjects: 2)
    }

    /// Lines too: pretty-printed JSON puts items and fields on lines of their own.
    func testPrettyPrintedJSONReportsTheSameLines() throws {
        for (text, defaults) in [(Self.services, ("v1", "Service")), (Self.slices, ("discovery.k8s.io/v1", "EndpointSlice"))] {
            let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
            let pretty = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .withoutEscapingSlashes])
            try assertBothWaysAlike(String(decoding: pretty, as: UTF8.self), defaults: defaults, expectingObjects: nil)
        }
    }

    /// The `clusterdns.io/aliases` annotation and the creation time that settles conflicts.
    func testAliasAnnotationIsRead() throws {
        var services: [Service] = []
        _ = try JSONDocument.readObject(Array(Self.services.utf8), streaming: "items") { item in
            for case .service(let service) in APIObjectDecoder.decode(item.object!, defaults: ("v1", "Service"), origin: "/api/v1/services").objects {
                services.append(service)
            }
        }
        let web = try XCTUnwrap(services.first { $0.name == "web" })
        XCTAssertEqual(web.aliases?.names, ["api.example.com", "www.Example.com"])
        XCTAssertEqual(web.aliases?.created, 1_704_067_200)
        XCTAssertNil(services.first { $0.name == "db" }?.aliases)
    }

    private func assertBothWaysAlike(
        _ text: String, defaults: (String, String), expectingObjects: Int?, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        var viaJSON: [APIObjectDecoder.Decoded] = []
        _ = try JSONDocument.readObject(Array(text.utf8), streaming: "items") { item in
            guard let object = item.object else { return XCTFail("item is not an object", file: file, line: line) }
            viaJSON.append(APIObjectDecoder.decode(object, defaults: defaults, origin: "/api/v1/things"))
        }
        let items = try XCTUnwrap(YamsManifestReader.parse(text)?.mapping?["items"]?.sequence, file: file, line: line)
        let viaYams = try items.map { item in
            APIObjectDecoder.decode(try XCTUnwrap(item.mapping), defaults: defaults, origin: "/api/v1/things")
        }
        XCTAssertEqual(viaJSON.count, viaYams.count, file: file, line: line)
        for (index, (json, yams)) in zip(viaJSON, viaYams).enumerated() {
            XCTAssertEqual(json.objects, yams.objects, "item \(index)", file: file, line: line)
            XCTAssertEqual(json.errors, yams.errors, "item \(index)", file: file, line: line)
        }
        if let expectingObjects {
            XCTAssertEqual(viaJSON.flatMap(\.objects).count, expectingObjects, "the samples mix good and bad objects", file: file, line: line)
        }
        XCTAssertFalse(viaJSON.flatMap(\.errors).isEmpty, "the samples include bad objects", file: file, line: line)
    }
}
