import ClusterRegistry

/// A manifest file through the loader: it loads, or is refused with an error that names the file.
enum ManifestTarget {
    static func run(_ input: UnsafeRawBufferPointer) {
        let text = String(decoding: input, as: UTF8.self)
        do {
            _ = try ManifestLoader.parse(text: text, file: "fuzz.yaml")
        } catch {
            require("\(error)".contains("fuzz.yaml"), "an error that does not name the file: \(error)")
        }
    }
}
