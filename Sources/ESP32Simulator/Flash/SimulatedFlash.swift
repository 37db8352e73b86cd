import Foundation

// SPI NOR flash as the ESP32 sees it (esp32-formats.md §6): 4 KiB sectors, erase sets 0xFF, programming can only
// clear bits. Every erase of a sector and every program of a ≤ 64-byte page chunk is one operation; a power cut
// can be planned before operation N, optionally tearing it (part of its effect done), as in MCUboot's simulator.

public enum FlashError: Error, Equatable, CustomStringConvertible {
    case outOfRange(offset: Int, length: Int, size: Int)
    case unalignedErase(offset: Int, length: Int)
    /// Programming a 1 over a 0: real NOR flash cannot, so the code that did it forgot an erase.
    case programWithoutErase(offset: Int)

    public var description: String {
        switch self {
        case .outOfRange(let offset, let length, let size):
            return "flash access 0x\(String(offset, radix: 16))+\(length) is outside the \(size)-byte chip"
        case .unalignedErase(let offset, let length):
            return "erase 0x\(String(offset, radix: 16))+\(length) is not aligned to 4 KiB sectors"
        case .programWithoutErase(let offset):
            return "programming a 1 over a 0 at 0x\(String(offset, radix: 16)): the sector was not erased"
        }
    }
}

/// The power went off. Thrown by the flash operation that was cut; the device must be rebooted.
public struct PowerCut: Error, Equatable, CustomStringConvertible {
    public let operation: Int
    public init(operation: Int) { self.operation = operation }
    public var description: String { "power cut at flash operation \(operation)" }
}

/// When the power goes off: before operation `operation` (1-based, counted from the plan's arming), either
/// cleanly (nothing of it done) or torn (a seeded part of it done).
public struct PowerCutPlan: Equatable, Sendable {
    public var operation: Int
    public var torn: Bool
    public var seed: UInt64

    public init(operation: Int, torn: Bool = false, seed: UInt64 = 1) {
        self.operation = operation
        self.torn = torn
        self.seed = seed
    }
}

public final class SimulatedFlash {
    public static let sectorSize = 4096
    /// The largest program the ESP-IDF HAL issues at once; never crosses a 256-byte page.
    public static let programChunk = 64

    public private(set) var bytes: [UInt8]
    /// Erase and program operations since the chip was made (or loaded).
    public private(set) var operations = 0
    private var plan: PowerCutPlan?
    private var operationsAtArming = 0

    public var size: Int { bytes.count }

    public init(size: Int = SimulatedFlashGeometry.defaultChipSize) {
        precondition(size % Self.sectorSize == 0)
        bytes = Array(repeating: 0xFF, count: size)
    }

    public init(contents: [UInt8]) {
        precondition(contents.count % Self.sectorSize == 0)
        bytes = contents
    }

    /// Arms a power cut; operations are counted from now. nil disarms.
    public func arm(_ plan: PowerCutPlan?) {
        self.plan = plan
        operationsAtArming = operations
    }

    /// Operations done since the last `arm` (to size exhaustive cut runs).
    public var operationsSinceArming: Int { operations - operationsAtArming }

    public func read(_ offset: Int, count: Int) throws(FlashError) -> [UInt8] {
        try check(offset, count)
        return Array(bytes[offset..<offset + count])
    }

    /// Erases whole sectors, one operation each.
    public func erase(_ offset: Int, length: Int) throws {
        try check(offset, length)
        guard offset % Self.sectorSize == 0, length % Self.sectorSize == 0 else {
            throw FlashError.unalignedErase(offset: offset, length: length)
        }
        for sector in stride(from: offset, to: offset + length, by: Self.sectorSize) {
            try operation { torn, random in
                // A torn erase leaves a prefix of the sector erased; the rest keeps its old content.
                let count = torn ? Int(random.next() % UInt64(Self.sectorSize)) : Self.sectorSize
                for index in sector..<sector + count { bytes[index] = 0xFF }
            }
        }
    }

    /// Programs bytes (1 → 0 only) in chunks of at most 64 bytes that never cross a 256-byte page.
    public func write(_ offset: Int, _ data: [UInt8]) throws {
        try check(offset, data.count)
        for (index, byte) in data.enumerated() where bytes[offset + index] & byte != byte {
            throw FlashError.programWithoutErase(offset: offset + index)
        }
        if plan == nil {
            // No cut planned: program in one pass and count the page programs it stands for.
            operations += Self.programCount(offset: offset, length: data.count)
            bytes.withUnsafeMutableBufferPointer { flash in
                data.withUnsafeBufferPointer { source in
                    for index in 0..<source.count { flash[offset + index] &= source[index] }
                }
            }
            return
        }
        var position = 0
        while position < data.count {
            let address = offset + position
            let pageRemaining = 256 - address % 256
            let length = min(Self.programChunk, data.count - position, pageRemaining)
            let chunk = position..<position + length
            try operation { torn, random in
                for index in chunk {
                    // A torn program applies only some of the chunk's 1 → 0 transitions.
                    let mask: UInt8 = torn ? UInt8(truncatingIfNeeded: random.next()) : 0xFF
                    let target = data[index]
                    let current = bytes[offset + index]
                    bytes[offset + index] = current & (target | ~mask)
                }
            }
            position += length
        }
    }

    /// Page programs a write of `length` bytes at `offset` takes: ≤ 64 bytes each, never across 256-byte pages.
    static func programCount(offset: Int, length: Int) -> Int {
        var count = 0
        var position = 0
        while position < length {
            let address = offset + position
            position += min(programChunk, length - position, 256 - address % 256)
            count += 1
        }
        return count
    }

    /// Counts one operation and applies it, unless the planned cut falls here.
    private func operation(_ apply: (Bool, inout SplitMix64) -> Void) throws {
        operations += 1
        if let plan, operations - operationsAtArming == plan.operation {
            self.plan = nil
            if plan.torn {
                var random = SplitMix64(seed: plan.seed &+ UInt64(operations))
                apply(true, &random)
            }
            throw PowerCut(operation: plan.operation)
        }
        var unused = SplitMix64(seed: 0)
        apply(false, &unused)
    }

    private func check(_ offset: Int, _ length: Int) throws(FlashError) {
        guard offset >= 0, length >= 0, offset + length <= bytes.count else {
            throw .outOfRange(offset: offset, length: length, size: bytes.count)
        }
    }
}

/// A small deterministic generator for torn operations (same seed, same damage).
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
