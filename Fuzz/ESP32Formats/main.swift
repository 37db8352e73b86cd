// libFuzzer target: the ESP32 formats a user uploads or a device's flash holds (scripts/fuzz). The first byte picks
// the parser: an app image (header, segments, checksum and SHA-256 verdicts, app descriptor), a binary partition
// table, a partition table CSV, or the otadata partition. Besides never crashing: a CSV table that parses (and so
// was verified) writes a binary table that parses again.
import ESP32Formats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzESP32Formats(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let payload = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    switch data[0] % 4 {
    case 0:
        if let image = try? AppImage(bytes: payload) {
            _ = image.verify()
            _ = try? image.appDescriptor()
        }
    case 1:
        _ = try? PartitionTable(binary: payload)
    case 2:
        if let table = try? PartitionTable(csv: String(decoding: payload, as: UTF8.self)) {
            guard let binary = try? table.binary() else { preconditionFailure("a CSV table does not write") }
            precondition((try? PartitionTable(binary: binary)) != nil, "a CSV table's binary does not parse")
        }
    default:
        _ = try? OTAData(partition: payload)
    }
    return 0
}
