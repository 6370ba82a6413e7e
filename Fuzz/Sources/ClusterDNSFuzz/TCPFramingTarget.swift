@testable import DNSServer
import NIOCore
import NIOEmbedded

/// A TCP byte stream through the frame decoder, delivered in reads whose sizes come from the
/// first byte (at most 8 reads, so one input stays cheap). Every frame handed on must have exactly the length its prefix gave, and the
/// frames and their prefixes must be the stream's start, in order.
enum TCPFramingTarget {
    /// One channel for every input (making one costs more than the decoding): each input gets
    /// a fresh decoder, and what the last one left behind is drained.
    nonisolated(unsafe) private static let channel = EmbeddedChannel()

    static func run(_ input: UnsafeRawBufferPointer) {
        guard let first = input.first else { return }
        let stream = Array(input.dropFirst())
        do {
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(TCPFrameDecoder()), name: "frames")
        } catch {
            fatalError("cannot add the frame decoder: \(error)")
        }
        defer {
            _ = channel.pipeline.syncOperations.removeHandler(name: "frames")
            channel.embeddedEventLoop.run()
            while (try? channel.readInbound(as: ByteBuffer.self)) != nil {}
        }
        let readSize = max(Int(first % 64) + 1, (stream.count + 7) / 8)
        var offset = 0
        while offset < stream.count {
            let end = min(stream.count, offset + readSize)
            do {
                try channel.writeInbound(ByteBuffer(bytes: stream[offset..<end]))
            } catch {
                fatalError("the frame decoder threw: \(error)")
            }
            offset = end
        }
        var position = 0
        while let frame = try? channel.readInbound(as: ByteBuffer.self) {
            require(position + 2 <= stream.count, "a frame past the stream's end")
            let length = Int(stream[position]) << 8 | Int(stream[position + 1])
            require(frame.readableBytes == length, "frame of \(frame.readableBytes) bytes, prefix says \(length)")
            require(Array(frame.readableBytesView) == Array(stream[(position + 2)..<(position + 2 + length)]), "frame bytes differ")
            position += 2 + length
        }
        // Whatever is left must be an incomplete frame.
        if position + 2 <= stream.count {
            let length = Int(stream[position]) << 8 | Int(stream[position + 1])
            require(position + 2 + length > stream.count, "a complete frame was not handed on")
        }
    }
}
