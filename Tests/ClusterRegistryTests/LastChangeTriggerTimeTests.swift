@testable import ClusterRegistry
import XCTest

/// `endpoints.kubernetes.io/last-change-trigger-time` → `EndpointGroup.lastChangeTriggerTime`,
/// from manifests and the API alike; informational, so never an error.
final class LastChangeTriggerTimeTests: XCTestCase {
    /// 2024-05-01T12:00:00Z
    private let noon = 1_714_564_800.0

    func testRFC3339Timestamps() throws {
        XCTAssertEqual(ManifestDecoder.rfc3339Seconds("1970-01-01T00:00:00Z"), 0)
        XCTAssertEqual(ManifestDecoder.rfc3339Seconds("2024-05-01T12:00:00Z"), noon)
        XCTAssertEqual(ManifestDecoder.rfc3339Seconds("2024-05-01t12:00:00z"), noon)
        XCTAssertEqual(ManifestDecoder.rfc3339Seconds("2024-05-01T14:30:00+02:30"), noon)
        XCTAssertEqual(ManifestDecoder.rfc3339Seconds("2024-05-01T07:00:00-05:00"), noon)
        XCTAssertEqual(try XCTUnwrap(ManifestDecoder.rfc3339Seconds("2024-05-01T12:00:00.123456789Z")), noon + 0.123456789, accuracy: 1e-6)
        XCTAssertEqual(ManifestDecoder.rfc3339Seconds("2024-05-01T12:00:00.5Z"), noon + 0.5)
        XCTAssertEqual(ManifestDecoder.rfc3339Seconds("2000-02-29T00:00:00Z"), 951_782_400)
        XCTAssertEqual(ManifestDecoder.rfc3339Seconds("1969-12-31T23:59:59Z"), -1)
        for bad in [
            "", "yesterday", "2024-05-01", "2024-05-01T12:00:00", "2024-05-01 12:00:00Z", "2024-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z", "2024-04-31T00:00:00Z", "2024-05-01T24:00:00Z", "2024-05-01T12:60:00Z",
            "2024-05-01T12:00:60Z", "2024-05-01T12:00:00.Z", "2024-05-01T12:00:00+0200", "2024-05-01T12:00:00Z ",
            "24-05-01T12:00:00Z", "2024-5-01T12:00:00Z", "1714564800",
        ] {
            XCTAssertNil(ManifestDecoder.rfc3339Seconds(bad), bad)
        }
    }

    func testSliceManifestCarriesTheTriggerTime() throws {
        let decoder = ManifestDecoder.decode(text: slice(annotation: "2024-05-01T12:00:00.25Z"), file: "s.yaml")
        XCTAssertEqual(decoder.errors, [])
        XCTAssertEqual(groups(decoder.objects).map(\.lastChangeTriggerTime), [noon + 0.25])
    }

    func testEndpointsManifestCarriesItOnEverySubset() throws {
        let decoder = ManifestDecoder.decode(text: """
            apiVersion: v1
            kind: Endpoints
            metadata:
              name: web
              namespace: shop
              annotations:
                endpoints.kubernetes.io/last-change-trigger-time: "2024-05-01T12:00:00Z"
            subsets:
            - addresses: [{ip: 10.1.0.5}]
              ports: [{port: 80}]
            - addresses: [{ip: 10.1.0.6}]
              ports: [{port: 81}]
            """, file: "e.yaml")
        XCTAssertEqual(decoder.errors, [])
        XCTAssertEqual(groups(decoder.objects).map(\.lastChangeTriggerTime), [noon, noon])
    }

    func testMissingOrUnparsableIsNilNotAnError() throws {
        for annotations in ["", "annotations: {}", "annotations: {endpoints.kubernetes.io/last-change-trigger-time: soon}",
                            "annotations: {endpoints.kubernetes.io/last-change-trigger-time: [1]}",
                            "annotations: {endpoints.kubernetes.io/last-change-trigger-time: null}", "annotations: [x]"] {
            let decoder = ManifestDecoder.decode(text: slice(annotationsLine: annotations), file: "s.yaml")
            XCTAssertEqual(decoder.errors, [], annotations)
            XCTAssertEqual(groups(decoder.objects).map(\.lastChangeTriggerTime), [nil], annotations)
        }
    }

    func testAPIObjectsCarryItToo() throws {
        let json = #"""
            {"metadata":{"name":"web-x","namespace":"shop","labels":{"kubernetes.io/service-name":"web"},
            "annotations":{"endpoints.kubernetes.io/last-change-trigger-time":"2024-05-01T12:00:01.5Z"}},
            "addressType":"IPv4","endpoints":[{"addresses":["10.1.0.5"]}]}
            """#
        let object = try XCTUnwrap(JSONDocument.parse(Array(json.utf8)).root.object)
        let decoded = APIObjectDecoder.decode(object, defaults: ("discovery.k8s.io/v1", "EndpointSlice"), origin: "api")
        XCTAssertEqual(groups(decoded.objects).map(\.lastChangeTriggerTime), [noon + 1.5])
    }

    private func slice(annotation: String) -> String {
        slice(annotationsLine: "annotations: {endpoints.kubernetes.io/last-change-trigger-time: \"\(annotation)\"}")
    }

    private func slice(annotationsLine: String) -> String {
        """
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: web-abc
          namespace: shop
          labels: {kubernetes.io/service-name: web}
          \(annotationsLine)
        addressType: IPv4
        endpoints:
        - addresses: [10.1.0.5]
        """
    }

    private func groups(_ objects: [KubernetesObject]) -> [EndpointGroup] {
        objects.compactMap { object in
            if case .endpoints(let group) = object { return group }
            return nil
        }
    }
}
