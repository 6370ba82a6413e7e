import CLDNS
import DNSWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A zone file that ldns could not parse, or that lacks what we need.
public struct ZoneFileError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var message: String

    public var description: String { "\(file)" + (line.map { ":\($0)" } ?? "") + ": \(message)" }
}

/// Reads RFC 1035 zone files with NLnet Labs ldns: ldns parses the text and renders each RR to
/// wire form, which our own decoder turns into records (one parser per format, none hand-written).
public enum ZoneFileLoader {
    /// The largest zone file read (ours are small; a cluster's records come from objects).
    public static let maxFileBytes = 256 << 20

    /// Every `*.zone` file in `directory` (not recursive), sorted by name.
    public static func load(directory: String) throws(ZoneFileError) -> [ZoneModel] {
        guard let dir = opendir(directory) else {
            throw ZoneFileError(file: directory, message: "cannot open directory: \(String(cString: strerror(errno)))")
        }
        var files: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasSuffix(".zone"), !name.hasPrefix(".") { files.append(directory + "/" + name) }
        }
        closedir(dir)
        return try files.sorted().map { (file) throws(ZoneFileError) in try load(file: file) }
    }

    /// One zone file. The origin is `$ORIGIN`, else the file name without `.zone`.
    public static func load(file: String) throws(ZoneFileError) -> ZoneModel {
        // Only a regular file of bounded size: opening a FIFO named `x.zone` would block the
        // reload thread forever, and a huge file would be parsed whole (issue #11 item 16).
        var info = stat()
        guard stat(file, &info) == 0 else {
            throw ZoneFileError(file: file, message: "cannot read: \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFREG else { throw ZoneFileError(file: file, message: "not a regular file") }
        guard info.st_size <= maxFileBytes else {
            throw ZoneFileError(file: file, message: "\(info.st_size) bytes, more than the \(maxFileBytes) a zone file may have")
        }
        guard let handle = fopen(file, "r") else {
            throw ZoneFileError(file: file, message: "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { fclose(handle) }
        let baseName = String(file.split(separator: "/").last ?? "").replacingSuffix(".zone")
        let origin = ldns_dname_new_frm_str(baseName + ".")
        defer { if origin != nil { ldns_rdf_deep_free(origin) } }
        var zonePointer: UnsafeMutablePointer<ldns_zone>? = nil
        var line: Int32 = 0
        let status = ldns_zone_new_frm_fp_l(&zonePointer, handle, origin, 3600, LDNS_RR_CLASS_IN, &line)
        guard status == LDNS_STATUS_OK, let zone = zonePointer else {
            throw ZoneFileError(file: file, line: Int(line), message: String(cString: ldns_get_errorstr_by_id(status)))
        }
        defer { ldns_zone_deep_free(zone) }
        guard let soaRR = ldns_zone_soa(zone), let soa = try? record(from: UnsafePointer(soaRR)) else {
            throw ZoneFileError(file: file, message: "no SOA record")
        }
        var model = ZoneModel(apex: soa.name, kind: .file, soa: soa)
        model.add(soa)
        let list = ldns_zone_rrs(zone)
        for index in 0..<ldns_rr_list_rr_count(list) {
            guard let rr = ldns_rr_list_rr(list, index) else { continue }
            do {
                let parsed = try record(from: UnsafePointer(rr))
                guard parsed.name.isSubdomain(of: model.apex) else {
                    throw ZoneFileError(file: file, message: "\(parsed.name) is outside the zone \(model.apex)")
                }
                model.add(parsed)
            } catch let error as ZoneFileError {
                throw error
            } catch {
                throw ZoneFileError(file: file, message: "record \(index + 1): \(error)")
            }
        }
        return model
    }

    /// ldns renders the RR uncompressed; our codec decodes it.
    private static func record(from rr: UnsafePointer<ldns_rr>) throws -> ResourceRecord {
        var wire: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        let status = ldns_rr2wire(&wire, rr, Int32(LDNS_SECTION_ANSWER.rawValue), &size)
        guard status == LDNS_STATUS_OK, let wire else { throw DNSWireError.truncated(at: 0) }
        defer { free(wire) }
        var reader = WireReader(bytes: Array(UnsafeBufferPointer(start: wire, count: size)))
        return try reader.readRecord()
    }
}

extension String {
    fileprivate func replacingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
