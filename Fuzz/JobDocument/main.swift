// libFuzzer target: the `afr_ota` job document as the agent reads it (JSON text → OTAJobDocument), and the
// `$next/get` / notify-next envelope around it (scripts/fuzz). A document that parses must survive a round trip
// through the service's writer.
import OTAWire

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJobDocument(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let value = try? JSONParser.parse(bytes) else { return 0 }
    for candidate in [value, value["execution"]?["jobDocument"]] {
        guard let candidate, let document = try? OTAJobDocument(parsing: candidate) else { continue }
        let written = try? JSONParser.parse(document.json.serialized)
        precondition(written.flatMap { try? OTAJobDocument(parsing: $0) } == document, "job document round trip")
    }
    return 0
}
