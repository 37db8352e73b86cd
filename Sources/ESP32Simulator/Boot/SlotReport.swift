import ESP32Formats

/// What one app partition holds, as `ota simulate device --json` and `ota demo --json` report it: the running slot
/// and its version; every other slot `erased`, or its image's version, otadata state and whether the bootloader
/// would run it.
public struct SlotReport: Codable, Equatable, Sendable {
    public enum Content: String, Codable, Sendable {
        /// Every byte of the partition reads 0xFF.
        case erased
        /// An app image header is there (it may or may not verify: see `bootable`).
        case image
        /// Bytes that are not an app image (a torn write, a partial download).
        case data
    }

    public let name: String
    public let running: Bool
    public let content: Content
    public let version: String?
    /// The otadata state of the slot's entry (`valid`, `invalid`, `aborted`, `new`, `pending-verify`,
    /// `undefined`, or `unknown` for a state word ESP-IDF does not define); nil for the factory app and for slots no
    /// entry names.
    public let state: String?
    /// Whether the image verifies (checksum, SHA-256, secure boot, anti-rollback) as the bootloader checks it.
    public let bootable: Bool?

    /// One line for people: `ota_0 1.1.0 valid (running)`, `factory erased`.
    public var summary: String {
        var words = [name]
        switch content {
        case .erased: words.append("erased")
        case .data: words.append("data (no image)")
        case .image:
            words.append(version ?? "?")
            if let state { words.append(state) }
            if bootable == false { words.append("unbootable") }
        }
        if running { words.append("(running)") }
        return words.joined(separator: " ")
    }
}

extension SimulatedChip {
    /// The factory app (when the table has one) and every OTA slot, in partition table order.
    public func slotReport(running: Partition?) throws -> [SlotReport] {
        let layout = try FlashLayout(flash: flash)
        let otaData = try layout.readOTAData(flash)
        let partitions = (layout.factory.map { [$0] } ?? []) + layout.slots
        return try partitions.sorted { $0.offset < $1.offset }.map { partition in
            let isRunning = partition == running
            if try flash.isErased(Int(partition.offset), length: Int(partition.size)) {
                return SlotReport(
                    name: partition.name, running: isRunning, content: .erased, version: nil, state: nil,
                    bootable: nil)
            }
            guard let version = try flash.imageVersion(in: partition) else {
                return SlotReport(
                    name: partition.name, running: isRunning, content: .data, version: nil, state: nil, bootable: nil)
            }
            let entry = otaData.entries.filter { $0.isCRCValid && layout.slot(of: $0) == partition }
                .max { $0.sequence < $1.sequence }
            let bootable =
                (try? bootloader.check.verify(partition, layout: layout, flash: flash, efuses: efuses)) != nil
            return SlotReport(
                name: partition.name, running: isRunning, content: .image, version: version,
                state: entry.map { $0.state?.reportName ?? "unknown" }, bootable: bootable)
        }
    }
}

extension OTADataState {
    /// The state as reports spell it.
    public var reportName: String {
        switch self {
        case .new: return "new"
        case .pendingVerify: return "pending-verify"
        case .valid: return "valid"
        case .invalid: return "invalid"
        case .aborted: return "aborted"
        case .undefined: return "undefined"
        }
    }
}
