import DNSWire

extension ClusterRecordsBuilder {
    /// k8s DNS spec §2.4.3: a CNAME to `externalName`. An IP literal is not a name and is
    /// ignored, as CoreDNS does. Named ports get SRV records pointing at the external name.
    mutating func addExternalNameService(_ service: Service, base: DomainName, target: String) {
        guard IPAddress(target) == nil, !target.isEmpty, let targetName = try? DomainName(target) else {
            recordSkip("service \(service.namespace)/\(service.name): externalName \"\(target)\" is not a host name")
            return
        }
        // A CNAME to itself is a loop every resolver would chase (issue #11 item 10).
        guard targetName.lowercased() != base.lowercased() else {
            recordSkip("service \(service.namespace)/\(service.name): externalName \"\(target)\" is the Service's own name")
            return
        }
        addCNAME(at: base, to: targetName)
        for port in service.ports {
            guard let owner = srvName(port.name, port.proto, base) else { continue }
            addSRV(at: owner, [(port.port, targetName)])
        }
    }

    /// The Service's accepted aliases answer like its own name: the same A and AAAA records (its
    /// ClusterIPs, or its ready endpoints when headless), or its CNAME. An alias two Services
    /// claim goes to the older (`ClusterObjects.aliasOwner`); refusals are reported for the
    /// Service.
    mutating func addAliases(of service: Service, unit: ServiceUnit, from objects: ClusterObjects) {
        guard let aliases = service.aliases, !aliasZones.isEmpty, let base = serviceName(service) else { return }
        let own = (cluster.records(at: base) ?? []).filter { [.a, .aaaa, .cname].contains($0.type) }
        var seen: Set<String> = []
        for text in aliases.names where seen.insert(text.lowercased()).inserted {
            let alias: DomainName
            switch configuration.acceptedAlias(text) {
            case .failure(.notAName):
                recordSkip("service \(service.namespace)/\(service.name): alias \"\(text)\" is not a host name; ignored")
                continue
            case .failure(.outsideAliasDomains):
                let domains = configuration.aliasDomains.map { "\($0)" }.joined(separator: ", ")
                recordSkip("service \(service.namespace)/\(service.name): alias \(text) is not below --alias-domains (\(domains)); ignored")
                continue
            case .success(let name):
                alias = name
            }
            if let owner = objects.aliasOwner(alias), owner != unit {
                recordSkip("service \(service.namespace)/\(service.name): alias \(alias) is also claimed by \(owner.namespace)/\(owner.name), "
                    + "the older Service; served for that one only")
                continue
            }
            // The deepest alias domain holding it (example.com and a.example.com may both be listed).
            guard let zone = aliasZones.indices.filter({ alias.isSubdomain(of: aliasZones[$0].apex) })
                .max(by: { aliasZones[$0].apex.labelCount < aliasZones[$1].apex.labelCount })
            else { continue }
            // A Service without addresses yet still holds the name: NODATA, never forwarded.
            aliasZones[zone].addName(alias)
            for record in own {
                var copy = record
                copy.name = alias
                aliasZones[zone].add(copy)
            }
        }
    }

    static func isValidLabel(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 63 && !text.contains(".")
    }

    /// An RFC 1123 label as the API server checks namespace names (`IsDNS1123Label`): 1–63
    /// lower-case letters, digits and '-', starting and ending with a letter or digit.
    static func isDNS1123Label(_ text: String) -> Bool {
        let bytes = text.utf8  // read in place: asked twice per Service in a full build
        guard (1...63).contains(bytes.count), let first = bytes.first, let last = bytes.last else { return false }
        let alphanumeric = { (byte: UInt8) in (97...122).contains(byte) || (48...57).contains(byte) }
        return alphanumeric(first) && alphanumeric(last) && bytes.allSatisfy { alphanumeric($0) || $0 == UInt8(ascii: "-") }
    }

    /// An RFC 1035 label as the API server checks Service names (`IsDNS1035Label`): a 1123
    /// label that starts with a letter.
    static func isDNS1035Label(_ text: String) -> Bool {
        isDNS1123Label(text) && (97...122).contains(text.utf8.first ?? 0)
    }
}
