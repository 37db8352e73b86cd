import Crypto
import ESP32Formats
import Foundation
import TestSupport
import Testing

/// Cross-checks against esptool 5.6.0 (PyPI), which nobody here wrote (esp32-formats.md §7).
@Suite struct EsptoolInteropTests {
    /// A minimal ESP32 ELF as an IDF build would lay it out: the descriptor section first in DROM, code in IRAM.
    static func makeELF(descriptor: AppDescriptor, rodata: [UInt8]) throws -> [UInt8] {
        MiniELF.make(
            sections: [
                .init(
                    name: ".flash.appdesc", address: 0x3F40_0020, data: try descriptor.encoded() + rodata,
                    executable: false),
                .init(name: ".iram0.text", address: 0x4008_0000, data: [0, 0, 0, 0], executable: true),
            ], entry: 0x4008_0000)
    }

    static let descriptor = AppDescriptor(
        secureVersion: 3, version: "1.4.2", projectName: "esptool-interop",
        time: "10:11:12", date: "Nov 25 2026", idfVersion: "v5.5")

    @Test(arguments: [false, true])
    func esptoolImagesParseAndMatchOurBuilderByteForByte(securePad: Bool) async throws {
        let directory = try TemporaryDirectory()
        let rodata = (0..<3000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let elf = try Self.makeELF(descriptor: Self.descriptor, rodata: rodata)
        let elfPath = try directory.write("app.elf", elf)
        let out = directory.path("app.bin")
        try await ExternalTools.check(
            "esptool",
            [
                "--chip", "esp32", "elf2image", "--flash-mode", "dio", "--flash-freq", "40m", "--flash-size", "4MB",
                "--min-rev-full", "0", "--max-rev-full", "399", "-o", out, elfPath,
            ] + (securePad ? ["--secure-pad"] : []))
        let esptoolBytes = try directory.read("app.bin")

        let image = try AppImage(bytes: esptoolBytes)
        try image.validate()
        #expect(image.header.spiMode == 2 && image.header.spiSize == 2 && image.header.spiSpeed == 0)
        #expect(image.header.entryAddress == 0x4008_0000 && image.header.maxChipRevisionFull == 399)
        let parsed = try image.appDescriptor()
        #expect(parsed.version == "1.4.2" && parsed.secureVersion == 3 && parsed.projectName == "esptool-interop")
        // esptool patches the ELF's SHA-256 into the descriptor at image offset 0xB0.
        #expect(parsed.appELFSHA256 == Array(SHA256.hash(data: elf)))

        var ours = Self.descriptor
        ours.appELFSHA256 = Array(SHA256.hash(data: elf))
        let built = try AppImageBuilder.application(descriptor: ours, payload: rodata, secureBootV1Padding: securePad)
        #expect(built == esptoolBytes, "our builder must write exactly what esptool writes")
    }

    @Test func esptoolImageInfoAcceptsOurImagesAndSeesOurCorruption() async throws {
        let directory = try TemporaryDirectory()
        let bytes = try AppImageBuilder.application(
            descriptor: Self.descriptor, payload: Array(repeating: 0x5A, count: 5000))
        let good = try directory.write("good.bin", bytes)
        let info = try await ExternalTools.check("esptool", ["--chip", "esp32", "image-info", good]).stdout
        // image-info exits 0 even for bad images: the verdict is in its text.
        #expect(info.contains("(valid)"), "\(info)")
        #expect(!info.contains("(invalid"), "\(info)")
        #expect(info.contains("1.4.2") && info.contains("esptool-interop"), "\(info)")

        var corrupt = bytes
        corrupt[0x300] ^= 0xFF
        let bad = try directory.write("bad.bin", corrupt)
        let badInfo = try await ExternalTools.check("esptool", ["--chip", "esp32", "image-info", bad]).stdout
        #expect(badInfo.contains("(invalid"), "\(badInfo)")
        #expect(throws: ImageFormatError.self) { try AppImage(bytes: corrupt).validate() }
    }

    @Test func espsecureV1BlockIsLocatedAfterTheImage() async throws {
        let directory = try TemporaryDirectory()
        let bytes = try AppImageBuilder.application(
            descriptor: Self.descriptor, payload: Array(repeating: 1, count: 100))
        let input = try directory.write("app.bin", bytes)
        let key = directory.path("key.pem")
        try await ExternalTools.check("espsecure", ["generate-signing-key", "--version", "1", key])
        try await ExternalTools.check(
            "espsecure",
            ["sign-data", "--version", "1", "--keyfile", key, "--output", directory.path("signed.bin"), input])
        let signed = try AppImage(bytes: try directory.read("signed.bin"))
        let block = try #require(signed.secureBootBlock)
        #expect(block.version == 0 && block.signature.count == 64)
        #expect(Array(signed.signedBytes) == bytes)
        #expect(signed.totalLength == bytes.count + 68)
    }
}
