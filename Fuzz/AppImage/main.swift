// libFuzzer target: ESP32 app images as an upload, `ota image info` and the simulated bootloader read them
// (scripts/fuzz): the header and segments, the checksum and SHA-256 verdicts, the upload validation and the app
// descriptor. Besides never crashing: every range the parser hands out lies inside the bytes it was given.
import ESP32Formats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAppImage(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let image = try? AppImage(bytes: bytes) else { return 0 }
    precondition(image.totalLength <= bytes.count, "the image claims more bytes than it was given")
    precondition(image.checksumOffset < image.imageLength, "the checksum lies outside the image")
    for segment in image.segments {
        precondition(segment.dataRange.upperBound <= image.checksumOffset, "a segment runs past the checksum")
    }
    _ = image.verify()
    _ = try? image.validate()
    _ = try? image.appDescriptor()
    return 0
}
