import ESP32Formats
import Testing

/// A small valid app image: descriptor + payload in DROM, a 4-byte IRAM stub.
func sampleImage(
    payload: [UInt8] = Array(repeating: 0xA5, count: 1000), version: String = "1.0.0",
    secureVersion: UInt32 = 0, secureBootV1Padding: Bool = false
) throws -> [UInt8] {
    try AppImageBuilder.application(
        descriptor: AppDescriptor(secureVersion: secureVersion, version: version, projectName: "demo"),
        payload: payload, secureBootV1Padding: secureBootV1Padding)
}

@Suite struct AppImageTests {
    @Test func builtImageParsesAndVerifies() throws {
        let bytes = try sampleImage()
        let image = try AppImage(bytes: bytes)
        #expect(image.header.chip == .esp32)
        #expect(image.header.hashAppended)
        #expect(image.segments.count == 2)
        #expect(image.segments[0].loadAddress == 0x3F40_0020 && image.segments[0].dataOffset == 0x20)
        #expect(image.segments[1].region == .iram)
        #expect((image.checksumOffset + 1) % 16 == 0)
        #expect(image.imageLength == bytes.count)
        #expect(image.secureBootBlock == nil)
        #expect(image.verify().isValid)
        try image.validate()
        let descriptor = try image.appDescriptor()
        #expect(descriptor.version == "1.0.0" && descriptor.projectName == "demo")
    }

    @Test func lengthsFollowTheLoaderFormula() throws {
        // esp32-formats.md §1.5: 2 segments of 256 and 1024 bytes → 1328 through the checksum, 1360 with the hash.
        let header = ImageHeader(segmentCount: 0, entryAddress: 0x4008_0000)
        let segments = [
            AppImageBuilder.Segment(loadAddress: 0x3FFB_0000, data: Array(repeating: 1, count: 256)),
            AppImageBuilder.Segment(loadAddress: 0x4008_0000, data: Array(repeating: 2, count: 1024)),
        ]
        let bytes = try AppImageBuilder(header: header, segments: segments).build()
        #expect(bytes.count == 1360)
        let image = try AppImage(bytes: bytes)
        #expect(image.checksumOffset == 1327)
        var noHash = header
        noHash.hashAppendedByte = 0
        #expect(try AppImageBuilder(header: noHash, segments: segments).build().count == 1328)
    }

    @Test func checksumIsXorOfSegmentDataSeededWithEF() throws {
        let header = ImageHeader(segmentCount: 0, entryAddress: 0x4008_0000, hashAppended: false)
        let data: [UInt8] = [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xFF, 0x00, 0x00, 0x0F]
        let bytes = try AppImageBuilder(header: header, segments: [.init(loadAddress: 0x3FFB_0000, data: data)]).build()
        let expected = data.reduce(UInt8(0xEF), ^)
        #expect(bytes.last == expected)
    }

    @Test func descriptorRoundTripsAndSitsAtItsABIOffsets() throws {
        var descriptor = AppDescriptor(
            secureVersion: 7, version: "2.3.4", projectName: "thermostat",
            time: "12:00:00", date: "Jan  1 2026", idfVersion: "v5.5.1", appELFSHA256: Array(0..<32))
        descriptor.minEfuseBlockRevisionFull = 1
        let bytes = try descriptor.encoded()
        #expect(bytes.count == 256)
        #expect(Array(bytes[0..<4]) == [0x32, 0x54, 0xCD, 0xAB])
        #expect(Array(bytes[4..<8]) == [7, 0, 0, 0])
        #expect(Array(bytes[144..<176]) == Array(0..<32))
        #expect(try AppDescriptor(bytes: bytes) == descriptor)
        let image = try AppImage(bytes: try sampleImage(secureVersion: 9))
        #expect(image.bytes[0x24] == 9, "secure_version lives at image offset 0x24")
    }

    @Test func descriptorFieldsThatDoNotFitAreRefused() {
        let long = AppDescriptor(version: String(repeating: "9", count: 32), projectName: "p")
        #expect(throws: ImageFormatError.fieldTooLong(field: "version", maximum: 31)) { try long.encoded() }
    }

    @Test func secureBootV1PaddingEndsTwelveBytesBeforeA64KiBBoundary() throws {
        for size in [10, 5000, 70_000] {
            let bytes = try sampleImage(payload: Array(repeating: 3, count: size), secureBootV1Padding: true)
            #expect((bytes.count + SecureBootV1SignatureBlock.size) % 0x10000 == 0x10000 - 12)
            try AppImage(bytes: bytes).validate()
        }
    }

    @Test func secureBootBlockIsAppendedLocatedAndExtracted() throws {
        let bytes = try sampleImage()
        let image = try AppImage(bytes: bytes)
        let block = try SecureBootV1SignatureBlock(signature: Array(1...64))
        let signed = image.appendingSecureBootBlock(block)
        #expect(signed.count == bytes.count + 68)
        #expect(Array(signed[bytes.count..<bytes.count + 4]) == [0, 0, 0, 0])
        let reparsed = try AppImage(bytes: signed)
        #expect(reparsed.secureBootBlock == block)
        #expect(Array(reparsed.signedBytes) == bytes)
        // Erased flash after an image is not a signature block.
        #expect(try AppImage(bytes: bytes + Array(repeating: 0xFF, count: 100)).secureBootBlock == nil)
        #expect(throws: ImageFormatError.self) { try SecureBootV1SignatureBlock(signature: [1, 2, 3]) }
    }

    @Test func flashMappedSegmentsGetAlignmentPadding() throws {
        // A second DROM segment must land congruent to its address modulo 64 KiB: the builder pads before it.
        let header = ImageHeader(segmentCount: 0, entryAddress: 0x4008_0000)
        let segments = [
            AppImageBuilder.Segment(loadAddress: 0x3F40_0020, data: Array(repeating: 0, count: 256)),
            AppImageBuilder.Segment(loadAddress: 0x400D_0020, data: Array(repeating: 7, count: 64)),
        ]
        let image = try AppImage(bytes: try AppImageBuilder(header: header, segments: segments).build())
        #expect(image.segments.count == 3)
        #expect(image.segments[1].region == .padding)
        #expect(image.segments[2].dataOffset % 0x10000 == 0x20)
        try image.validate()
    }

    @Test func mappedSegmentEndingJustPastAPageIsZeroExtended() throws {
        // The DROM segment starts at 0x20; 0xFFE0 bytes end it exactly on the 64 KiB boundary → extended by 0x24.
        let header = ImageHeader(segmentCount: 0, entryAddress: 0x4008_0000)
        let builder = AppImageBuilder(
            header: header, segments: [.init(loadAddress: 0x3F40_0020, data: Array(repeating: 1, count: 0xFFE0))])
        let image = try AppImage(bytes: try builder.build())
        #expect(image.segments[0].length == 0xFFE0 + 0x24)
    }
}

@Suite struct AppImageBadInputTests {
    @Test func everyTruncationIsATypedError() throws {
        let bytes = try sampleImage(payload: Array(repeating: 1, count: 64))
        for length in 0..<bytes.count {
            #expect(throws: ImageFormatError.self) { try AppImage(bytes: Array(bytes[0..<length])) }
        }
    }

    @Test func wrongMagic() throws {
        var bytes = try sampleImage()
        bytes[0] = 0xE8
        #expect(throws: ImageFormatError.wrongMagic(found: 0xE8)) { try AppImage(bytes: bytes) }
    }

    @Test func tooManySegments() throws {
        var bytes = try sampleImage()
        bytes[1] = 17
        #expect(throws: ImageFormatError.tooManySegments(count: 17)) { try AppImage(bytes: bytes) }
    }

    @Test func segmentLengthPastTheEnd() throws {
        var bytes = try sampleImage()
        bytes[0x1C...0x1F] = [0x00, 0x00, 0x10, 0x00]  // segment 0 length 0x100000
        #expect(throws: ImageFormatError.segmentPastEnd(segment: 0, end: 0x20 + 0x100000, fileSize: bytes.count)) {
            try AppImage(bytes: bytes)
        }
        bytes[0x1C...0x1F] = [0x02, 0x00, 0x00, 0x00]
        #expect(throws: ImageFormatError.segmentLengthNotWordAligned(segment: 0, length: 2)) {
            try AppImage(bytes: bytes)
        }
        bytes[0x1C...0x1F] = [0x00, 0x00, 0x00, 0x01]
        #expect(throws: ImageFormatError.segmentTooLarge(segment: 0, length: 0x0100_0000)) {
            try AppImage(bytes: bytes)
        }
    }

    @Test func misalignedMappedSegment() throws {
        var bytes = try sampleImage()
        bytes[0x18] = 0x24  // load address 0x3F400024 while the data sits at 0x20
        #expect(
            throws: ImageFormatError.segmentMappingMisaligned(segment: 0, loadAddress: 0x3F40_0024, fileOffset: 0x20)
        ) {
            try AppImage(bytes: bytes)
        }
    }

    @Test func flippedDataBitFailsTheChecksum() throws {
        var bytes = try sampleImage()
        bytes[0x200] ^= 0x10
        let image = try AppImage(bytes: bytes)
        #expect(!image.verify().checksumValid && image.verify().hashValid == false)
        guard case .checksumMismatch = thrownError({ () throws(ImageFormatError) in try image.validate() }) else {
            Issue.record("checksum mismatch not reported"); return
        }
    }

    @Test func flippedHashOrHeaderBitFailsTheHash() throws {
        for offset in [3, -1] {  // the flash-size byte (not in the checksum) and the last hash byte
            var bytes = try sampleImage()
            bytes[offset < 0 ? bytes.count + offset : offset] ^= 0x01
            let image = try AppImage(bytes: bytes)
            #expect(image.verify().checksumValid)
            guard case .hashMismatch = thrownError({ () throws(ImageFormatError) in try image.validate() }) else {
                Issue.record("hash mismatch not reported for offset \(offset)"); return
            }
        }
    }

    @Test func missingDescriptorIsReported() throws {
        let header = ImageHeader(segmentCount: 0, entryAddress: 0x4008_0000)
        let small = try AppImageBuilder(
            header: header, segments: [.init(loadAddress: 0x3FFB_0000, data: [0, 0, 0, 0])]
        ).build()
        guard
            case .noAppDescriptor? = thrownError({ () throws(ImageFormatError) in
                _ = try AppImage(bytes: small).appDescriptor()
            })
        else { Issue.record("tiny segment 0 accepted as descriptor"); return }
        let noMagic = try AppImageBuilder(
            header: header, segments: [.init(loadAddress: 0x3FFB_0000, data: Array(repeating: 0, count: 256))]
        ).build()
        guard
            case .noAppDescriptor? = thrownError({ () throws(ImageFormatError) in
                _ = try AppImage(bytes: noMagic).appDescriptor()
            })
        else { Issue.record("descriptor without magic accepted"); return }
    }
}
