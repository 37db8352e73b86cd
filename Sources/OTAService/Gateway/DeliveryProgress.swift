import Synchronization

// How far each device's download has got, from the blocks this instance served it: the console's progress bar per
// in-progress device. A bit per block (the FreeRTOS agent's own bitmap, aws-ota-wire.md §5.6), so a device that
// asks again for a block it lost is not counted twice. Forgotten when the device's next execution changes.

final class DeliveryProgress: Sendable {
    private struct Download {
        let stream: String
        let total: Int
        var served: [UInt64]
        var count = 0

        init(stream: String, total: Int) {
            self.stream = stream
            self.total = total
            served = Array(repeating: 0, count: (total + 63) / 64)
        }

        mutating func record(_ indices: [UInt64]) {
            for index in indices.map({ Int(clamping: $0) }) where index < total {
                let bit: UInt64 = 1 << UInt64(index % 64)
                if served[index / 64] & bit == 0 {
                    served[index / 64] |= bit
                    count += 1
                }
            }
        }
    }

    /// Larger files are tracked up to this many blocks (and shown as the share of those).
    static let maximumBlocks = 65_536

    private let downloads = Mutex<[String: Download]>([:])

    func served(thing: String, stream: String, blocks indices: [UInt64], of total: Int) {
        let total = min(max(total, 1), Self.maximumBlocks)
        downloads.withLock { downloads in
            // Changed in place: a copy taken out and stored back would copy the whole bitmap on every request
            // (the dictionary and the copy would share it), under a lock every connection takes.
            if let known = downloads[thing], known.stream != stream || known.total != total {
                downloads[thing] = nil
            }
            downloads[thing, default: Download(stream: stream, total: total)].record(indices)
        }
    }

    /// Percent of the stream's blocks served to `thing`, if it is downloading `stream` from this instance.
    func percent(thing: String, stream: String) -> Int? {
        downloads.withLock { downloads in
            guard let download = downloads[thing], download.stream == stream else { return nil }
            return download.count * 100 / download.total
        }
    }

    func forget(thing: String) {
        _ = downloads.withLock { $0.removeValue(forKey: thing) }
    }
}
