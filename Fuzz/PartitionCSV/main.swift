// libFuzzer target: partition tables in gen_esp32part's CSV dialect, as `ota partitions build` reads them
// (scripts/fuzz), with and without secure boot's 64 KiB app alignment. Besides never crashing: a CSV table that
// parses (and so was verified) writes a binary that parses to the same table, and its own CSV parses back to it.
import ESP32Formats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPartitionCSV(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = try? PartitionTable(csv: text, secureBoot: .v1)
    guard let table = try? PartitionTable(csv: text) else { return 0 }
    guard let binary = try? table.binary() else { preconditionFailure("a verified CSV table does not write") }
    precondition((try? PartitionTable(binary: binary)) == table, "a CSV table's binary reads as another table")
    precondition((try? PartitionTable(csv: table.csv())) == table, "a CSV table's own CSV reads as another table")
    return 0
}
