// libFuzzer target: the otadata partition as the simulated bootloader and the device's OTA port read it after any
// power cut (scripts/fuzz). Besides never crashing: each entry re-encodes to exactly the 32 bytes it came from, and
// the active entry, if any, is one whose CRC holds.
import ESP32Formats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOTAData(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? OTASelectEntry(bytes: bytes)
    // Short inputs stand for a whole partition: the fuzzer rarely grows an input to 8 KiB on its own.
    var partition = bytes
    if partition.count < OTAData.partitionSize {
        partition += [UInt8](repeating: 0xFF, count: OTAData.partitionSize - partition.count)
    }
    guard let otadata = try? OTAData(partition: partition) else { return 0 }
    for (index, entry) in otadata.entries.enumerated() {
        let start = index * OTAData.sectorSize
        precondition(entry.encoded() == Array(partition[start..<start + OTASelectEntry.size]), "entry round trip")
    }
    if let active = otadata.activeIndex { precondition(otadata.entries[active].isValid, "an invalid entry is active") }
    _ = otadata.entries.map { $0.slot(otaAppCount: 2) }
    return 0
}
