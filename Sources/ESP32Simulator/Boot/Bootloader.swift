import ESP32Formats

// The second-stage bootloader's choice (esp32-formats.md §3.2–§3.3, §4), built with app rollback and, when the
// eFuse says so, anti-rollback: PENDING_VERIFY entries become ABORTED, the active entry's slot is chosen (NEW
// becomes PENDING_VERIFY), images are verified (checksum, SHA-256, secure boot v1 signature, secure_version),
// and a failing candidate falls back to lower slots, factory, then higher slots. A VALID active app raises the
// secure_version eFuse. Every otadata write goes through the flash, so a power cut can hit it.

public struct BootOutcome {
    public let partition: Partition
    public let descriptor: AppDescriptor
    /// The booted image's length in its partition, secure boot block included.
    public let imageLength: Int
    /// The otadata state of the booted slot (nil for factory or an initial otadata).
    public let state: OTADataState?
    public let log: [String]
}

public struct Bootloader {
    public let check: ImageCheck

    public init(verificationKey: [UInt8]?) {
        check = ImageCheck(verificationKey: verificationKey)
    }

    public func boot(flash: SimulatedFlash, efuses: inout EFuses) throws -> BootOutcome {
        var log = BootLog()
        log.info("ESP-IDF v5.5 2nd stage bootloader (SwiftOTA simulator)")
        let layout = try FlashLayout(flash: flash)
        log.info(
            "Partition Table: \(layout.slots.count) OTA slots, factory \(layout.factory == nil ? "absent" : "present")")
        var data = try layout.readOTAData(flash)

        // A reboot while an image was pending verification means its self-test never confirmed it.
        for index in 0..<2 where data.entries[index].isCRCValid && data.entries[index].state == .pendingVerify {
            var entry = data.entries[index]
            entry.rawState = OTADataState.aborted.rawValue
            try layout.writeEntry(entry, at: index, to: flash)
            data.entries[index] = entry
            log.warning("Previous app in otadata[\(index)] (seq \(entry.sequence)) was PENDING_VERIFY: now ABORTED")
        }

        // Anti-rollback: entries whose app is older than the fused secure_version do not count.
        var usable = data
        if efuses.antiRollbackEnabled {
            for index in 0..<2 where usable.entries[index].isValid {
                guard let slot = layout.slot(of: usable.entries[index]),
                    (try? check.verify(slot, layout: layout, flash: flash, efuses: efuses)) != nil
                else {
                    usable.entries[index].rawState = OTADataState.invalid.rawValue
                    continue
                }
            }
        }

        var candidates: [Partition] = []
        var chosenIndex: Int?
        if let active = usable.activeIndex, let slot = layout.slot(of: usable.entries[active]) {
            chosenIndex = active
            candidates = Self.fallbackOrder(from: slot, layout: layout)
            if data.entries[active].state == .new {
                var entry = data.entries[active]
                entry.rawState = OTADataState.pendingVerify.rawValue
                try layout.writeEntry(entry, at: active, to: flash)
                data.entries[active] = entry
                log.info("otadata[\(active)] seq \(entry.sequence): NEW → PENDING_VERIFY")
            }
        } else {
            log.info("otadata has no valid entry: factory boot settings")
            candidates = (layout.factory.map { [$0] } ?? []) + layout.slots
        }

        for (attempt, partition) in candidates.enumerated() {
            log.info("Loading app partition \(partition.name) at offset 0x\(String(partition.offset, radix: 16))")
            do {
                let verdict = try check.verify(partition, layout: layout, flash: flash, efuses: efuses)
                let bootedChosen = attempt == 0 && chosenIndex != nil
                let state = bootedChosen ? data.entries[chosenIndex!].state : nil
                if bootedChosen, state == .valid, efuses.antiRollbackEnabled {
                    let version = Int(verdict.descriptor.secureVersion)
                    if version > efuses.secureVersion {
                        try efuses.raiseSecureVersion(to: version)
                        log.info("Anti-rollback: secure_version eFuse raised to \(version)")
                    }
                }
                log.info(
                    "Loaded app \(verdict.descriptor.projectName) \(verdict.descriptor.version) "
                        + "(secure_version \(verdict.descriptor.secureVersion)) from \(partition.name)")
                return BootOutcome(
                    partition: partition, descriptor: verdict.descriptor, imageLength: verdict.totalLength,
                    state: state,
                    log: log.lines)
            } catch let cut as PowerCut {
                throw cut
            } catch {
                log.error("Image in \(partition.name) is not bootable: \(error)")
            }
        }
        log.error("No bootable app partitions in the partition table")
        throw BootFailure(error: .noBootableApp, log: log.lines)
    }

    /// ESP-IDF's fallback: the chosen slot, then lower slots, factory, then higher slots.
    static func fallbackOrder(from slot: Partition, layout: FlashLayout) -> [Partition] {
        guard let index = layout.slots.firstIndex(of: slot) else { return [slot] }
        let lower = layout.slots[..<index].reversed()
        let higher = layout.slots[(index + 1)...]
        return [slot] + lower + (layout.factory.map { [$0] } ?? []) + higher
    }
}

/// The chip did not boot: the bootloader found nothing to run. Its log says why.
public struct BootFailure: Error, CustomStringConvertible {
    public let error: BootError
    public let log: [String]
    public var description: String { error.description + "\n" + log.joined(separator: "\n") }
}

/// Lines in the ESP-IDF log format: `I (31) boot: …`.
struct BootLog {
    private(set) var lines: [String] = []
    private var tick = 27

    mutating func info(_ message: String) { add("I", message) }
    mutating func warning(_ message: String) { add("W", message) }
    mutating func error(_ message: String) { add("E", message) }

    private mutating func add(_ level: String, _ message: String) {
        tick += 7
        lines.append("\(level) (\(tick)) boot: \(message)")
    }
}
