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

    public let size: Int
    /// Erase and program operations since the chip was made (or loaded).
    public private(set) var operations = 0
    private var plan: PowerCutPlan?
    private var operationsAtArming = 0
    /// Sector contents; nil is an erased sector (all 0xFF). A chip costs memory only for what it holds, so a fleet
    /// of thousands of mostly empty 4 MiB chips fits in a laptop, and an erase gives the memory back.
    private var sectors: [[UInt8]?]
    /// Per sector, the operation count when its content last changed: a range whose latest change is the same as
    /// before holds the same bytes (see `lastChange(in:)`).
    private var changedAt: [Int]

    public init(size: Int = SimulatedFlashGeometry.defaultChipSize) {
        precondition(size % Self.sectorSize == 0)
        self.size = size
        sectors = Array(repeating: nil, count: size / Self.sectorSize)
        changedAt = Array(repeating: 0, count: size / Self.sectorSize)
    }

    public init(contents: [UInt8]) {
        precondition(contents.count % Self.sectorSize == 0)
        size = contents.count
        sectors = stride(from: 0, to: contents.count, by: Self.sectorSize).map { start in
            let sector = Array(contents[start..<start + Self.sectorSize])
            return sector.allSatisfy { $0 == 0xFF } ? nil : sector
        }
        changedAt = Array(repeating: 0, count: size / Self.sectorSize)
    }

    /// The whole chip, as a dump would read it.
    public var bytes: [UInt8] { (try? read(0, count: size)) ?? [] }

    /// Memory the chip's content occupies (sectors not in the erased state).
    public var allocatedBytes: Int { sectors.reduce(0) { $0 + ($1 == nil ? 0 : Self.sectorSize) } }

    /// The operation count at the latest change of any byte in `offset ..< offset + length`: equal values at two
    /// moments mean the range was not touched in between (a cache of a verdict about those bytes stays valid).
    public func lastChange(in offset: Int, length: Int) -> Int {
        guard length > 0 else { return 0 }
        let first = max(0, offset / Self.sectorSize)
        let last = min(changedAt.count - 1, (offset + length - 1) / Self.sectorSize)
        return first <= last ? changedAt[first...last].max() ?? 0 : 0
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
        return [UInt8](unsafeUninitializedCapacity: count) { output, initialized in
            forEachSegment(offset, count) { sector, start, range in
                let target = UnsafeMutableBufferPointer(rebasing: output[start..<start + range.count])
                if let content = sectors[sector] {
                    content.withUnsafeBufferPointer { source in
                        _ = target.initialize(from: UnsafeBufferPointer(rebasing: source[range]))
                    }
                } else {
                    target.initialize(repeating: 0xFF)
                }
            }
            initialized = count
        }
    }

    /// Whether every byte of the sector-aligned range reads 0xFF. Reading is not an operation: a power cut cannot
    /// hit it, as on a chip, where an erase routine reads a sector before erasing it to spare the wear.
    public func isErased(_ offset: Int, length: Int) throws -> Bool {
        try check(offset, length)
        guard offset % Self.sectorSize == 0, length % Self.sectorSize == 0 else {
            throw FlashError.unalignedErase(offset: offset, length: length)
        }
        return sectors[offset / Self.sectorSize..<(offset + length) / Self.sectorSize].allSatisfy { content in
            content.map { $0.allSatisfy { $0 == 0xFF } } ?? true
        }
    }

    /// Erases whole sectors, one operation each.
    public func erase(_ offset: Int, length: Int) throws {
        try check(offset, length)
        guard offset % Self.sectorSize == 0, length % Self.sectorSize == 0 else {
            throw FlashError.unalignedErase(offset: offset, length: length)
        }
        for sector in offset / Self.sectorSize..<(offset + length) / Self.sectorSize {
            try operation { torn, random in
                guard torn else {
                    sectors[sector] = nil
                    changedAt[sector] = operations
                    return
                }
                // A torn erase leaves a prefix of the sector erased; the rest keeps its old content.
                let count = Int(random.next() % UInt64(Self.sectorSize))
                mutate(sector) { content in
                    for index in 0..<count { content[index] = 0xFF }
                }
            }
        }
    }

    /// Programs bytes (1 → 0 only) in chunks of at most 64 bytes that never cross a 256-byte page.
    public func write(_ offset: Int, _ data: [UInt8]) throws {
        try check(offset, data.count)
        var refused: Int?
        forEachSegment(offset, data.count) { sector, start, range in
            guard refused == nil, let content = sectors[sector] else { return }
            for (position, index) in zip(start..., range) where content[index] & data[position] != data[position] {
                refused = sector * Self.sectorSize + index
                return
            }
        }
        if let refused { throw FlashError.programWithoutErase(offset: refused) }
        if plan == nil {
            // No cut planned: program in one pass and count the page programs it stands for.
            operations += Self.programCount(offset: offset, length: data.count)
            forEachSegment(offset, data.count) { sector, start, range in
                program(sector, range, from: data, at: start, mask: 0xFF)
            }
            return
        }
        var position = 0
        while position < data.count {
            let address = offset + position
            let pageRemaining = 256 - address % 256
            let length = min(Self.programChunk, data.count - position, pageRemaining)
            let start = position
            try operation { torn, random in
                // A torn program applies only some of the chunk's 1 → 0 transitions.
                let sector = address / Self.sectorSize
                let range = address % Self.sectorSize..<address % Self.sectorSize + length
                program(sector, range, from: data, at: start, mask: torn ? nil : 0xFF, random: &random)
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

    /// ANDs `data[start...]` into `range` of `sector` (1 → 0 only); a nil `mask` draws one per byte (torn).
    private func program(
        _ sector: Int, _ range: Range<Int>, from data: [UInt8], at start: Int, mask: UInt8?,
        random: inout SplitMix64
    ) {
        // Programming all-ones changes nothing, and must not give an erased sector memory.
        if sectors[sector] == nil, data[start..<start + range.count].allSatisfy({ $0 == 0xFF }) { return }
        mutate(sector) { content in
            content.withUnsafeMutableBufferPointer { flash in
                data.withUnsafeBufferPointer { source in
                    for (position, index) in zip(start..., range) {
                        let applied = mask ?? UInt8(truncatingIfNeeded: random.next())
                        flash[index] &= source[position] | ~applied
                    }
                }
            }
        }
    }

    private func program(_ sector: Int, _ range: Range<Int>, from data: [UInt8], at start: Int, mask: UInt8) {
        var unused = SplitMix64(seed: 0)
        program(sector, range, from: data, at: start, mask: mask, random: &unused)
    }

    /// Changes one sector's content in place (materialising an erased one) and stamps it.
    private func mutate(_ sector: Int, _ change: (inout [UInt8]) -> Void) {
        var content = sectors[sector] ?? Array(repeating: 0xFF, count: Self.sectorSize)
        sectors[sector] = nil  // keep the array uniquely referenced, so the change is in place
        change(&content)
        sectors[sector] = content
        changedAt[sector] = operations
    }

    /// Calls `body(sector, start, range)` for each sector piece of `offset ..< offset + count`: `start` is the
    /// piece's position in the caller's buffer, `range` its byte range inside the sector.
    private func forEachSegment(_ offset: Int, _ count: Int, _ body: (Int, Int, Range<Int>) -> Void) {
        var position = 0
        while position < count {
            let address = offset + position
            let inSector = address % Self.sectorSize
            let length = min(Self.sectorSize - inSector, count - position)
            body(address / Self.sectorSize, position, inSector..<inSector + length)
            position += length
        }
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
        guard offset >= 0, length >= 0, offset + length <= size else {
            throw .outOfRange(offset: offset, length: length, size: size)
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
