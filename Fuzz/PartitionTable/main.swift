// libFuzzer target: binary partition tables as `ota partitions show` and the simulated bootloader read them
// (scripts/fuzz). Besides never crashing: a table that parses and fits writes a binary that parses again, and
// writing that is stable (a name that is not UTF-8 may change once, on the first write, never after).
import ESP32Formats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPartitionTable(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let table = try? PartitionTable(binary: bytes), let binary = try? table.binary() else { return 0 }
    guard let again = try? PartitionTable(binary: binary) else { preconditionFailure("a written table is refused") }
    precondition(again.partitions.count == table.partitions.count, "a written table lost partitions")
    precondition((try? again.binary()) == binary, "writing a table is not stable")
    _ = try? table.verify()
    _ = table.csv()
    return 0
}
