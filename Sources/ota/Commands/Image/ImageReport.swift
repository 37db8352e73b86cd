import CodeSigning
import Crypto
import ESP32Formats

/// What `ota image info` shows: esptool image-info's fields, the app descriptor and a verdict.
struct ImageReport: Encodable {
    struct Header: Encodable {
        let segmentCount: Int
        let entryAddress: String
        let spiMode: String
        let spiSpeed: String
        let flashSize: String
        let chip: String
        let chipID: Int
        let minChipRevisionFull: Int
        let maxChipRevisionFull: Int
        let wpPin: String
        let hashAppended: Bool
    }

    struct Segment: Encodable {
        let index: Int
        let loadAddress: String
        let fileOffset: String
        let length: Int
        let region: String
    }

    struct Descriptor: Encodable {
        let projectName: String
        let version: String
        let secureVersion: UInt32
        let time: String
        let date: String
        let idfVersion: String
        let appELFSHA256: String
    }

    struct Check: Encodable {
        let stored: String
        let computed: String
        let valid: Bool
    }

    struct SecureBootBlock: Encodable {
        let offset: Int
        let version: UInt32
        let signature: String
        /// nil when no public key was given to check it with.
        var signatureValid: Bool?
        var error: String?
    }

    let file: String
    let fileSize: Int
    var valid: Bool
    var error: String?
    var header: Header?
    var segments: [Segment] = []
    var imageLength: Int?
    var descriptor: Descriptor?
    var descriptorError: String?
    var checksum: Check?
    var hash: Check?
    var secureBootV1: SecureBootBlock?
    var trailingBytes: Int?

    /// With `publicKey`, the secure boot v1 block is checked as the bootloader would, and a missing or bad block
    /// makes the image invalid.
    init(file: String, bytes: [UInt8], publicKey: P256.Signing.PublicKey? = nil) {
        self.file = file
        fileSize = bytes.count
        let image: AppImage
        do {
            image = try AppImage(bytes: bytes)
        } catch {
            valid = false
            self.error = error.description
            return
        }
        let h = image.header
        header = Header(
            segmentCount: Int(h.segmentCount), entryAddress: hex(h.entryAddress, width: 8), spiMode: h.spiModeName,
            spiSpeed: h.spiSpeedName, flashSize: h.spiSizeName, chip: h.chip.description, chipID: Int(h.chip.rawValue),
            minChipRevisionFull: Int(h.minChipRevisionFull), maxChipRevisionFull: Int(h.maxChipRevisionFull),
            wpPin: hex(h.wpPin), hashAppended: h.hashAppended)
        segments = image.segments.enumerated().map { index, segment in
            Segment(
                index: index, loadAddress: hex(segment.loadAddress, width: 8), fileOffset: hex(segment.dataOffset),
                length: segment.length, region: segment.region.rawValue)
        }
        imageLength = image.imageLength
        do {
            let d = try image.appDescriptor()
            descriptor = Descriptor(
                projectName: d.projectName, version: d.version, secureVersion: d.secureVersion, time: d.time,
                date: d.date, idfVersion: d.idfVersion, appELFSHA256: hexString(d.appELFSHA256))
        } catch {
            descriptorError = error.description
        }
        let verification = image.verify()
        checksum = Check(
            stored: hex(verification.storedChecksum, width: 2), computed: hex(verification.computedChecksum, width: 2),
            valid: verification.checksumValid)
        if let stored = verification.storedHash {
            hash = Check(
                stored: hexString(stored), computed: hexString(verification.computedHash),
                valid: stored == verification.computedHash)
        }
        if let block = image.secureBootBlock {
            secureBootV1 = SecureBootBlock(
                offset: image.imageLength, version: block.version, signature: hexString(block.signature))
        }
        trailingBytes = bytes.count - image.totalLength
        valid = verification.isValid
        if let publicKey {
            do throws(CodeSigningError) {
                try SecureBootV1Signing.verify(image: bytes, publicKey: publicKey)
                secureBootV1?.signatureValid = true
            } catch {
                secureBootV1?.signatureValid = false
                secureBootV1?.error = error.description
                if secureBootV1 == nil { self.error = error.description }
                valid = false
            }
        }
    }

    var text: String {
        var lines = ["File: \(file) (\(fileSize) bytes)"]
        guard let header else {
            lines.append("Invalid image: \(error ?? "unknown error")")
            return lines.joined(separator: "\n")
        }
        lines += [
            "Image header",
            "  Segments: \(header.segmentCount), entry point \(header.entryAddress)",
            "  Flash: \(header.spiMode), \(header.spiSpeed), \(header.flashSize); WP pin \(header.wpPin)",
            "  Chip: \(header.chip) (id \(header.chipID)), revision \(revision(header.minChipRevisionFull)) to "
                + (header.maxChipRevisionFull == 0 || header.maxChipRevisionFull == 0xFFFF
                    ? "any" : revision(header.maxChipRevisionFull)),
            "  SHA-256 appended: \(header.hashAppended ? "yes" : "no")",
            "Segments",
            "  #   load address  file offset  length     region",
        ]
        for segment in segments {
            lines.append(
                "  "
                    + [
                        pad("\(segment.index)", 3), pad(segment.loadAddress, 13), pad(segment.fileOffset, 12),
                        pad("\(segment.length)", 10), segment.region,
                    ].joined(separator: " "))
        }
        if let d = descriptor {
            lines += [
                "App descriptor",
                "  Project: \(d.projectName)", "  Version: \(d.version)", "  Secure version: \(d.secureVersion)",
                "  Compiled: \(d.date) \(d.time)", "  ESP-IDF: \(d.idfVersion)", "  ELF SHA-256: \(d.appELFSHA256)",
            ]
        } else if let descriptorError {
            lines.append("App descriptor: none (\(descriptorError))")
        }
        lines.append("Verification")
        if let checksum {
            lines.append(
                "  Checksum: \(checksum.stored) "
                    + (checksum.valid ? "(valid)" : "(invalid: computed \(checksum.computed))"))
        }
        if let hash {
            lines.append(
                "  SHA-256: \(hash.stored) " + (hash.valid ? "(valid)" : "(invalid: computed \(hash.computed))"))
        } else {
            lines.append("  SHA-256: not appended")
        }
        if let block = secureBootV1 {
            let verdict =
                switch block.signatureValid {
                case true?: "(valid signature)"
                case false?: "(invalid: \(block.error ?? "signature does not verify"))"
                case nil: "(well-formed; pass --public-key to check its signature)"
                }
            lines.append("  Secure boot v1 block: present at \(hex(block.offset)), version \(block.version) \(verdict)")
        } else {
            lines.append("  Secure boot v1 block: absent" + (error.map { " (\($0))" } ?? ""))
        }
        if let trailingBytes, trailingBytes > 0 {
            lines.append("  \(trailingBytes) bytes follow the image (ignored by the bootloader)")
        }
        lines.append("Verdict: " + (valid ? "valid" : "INVALID"))
        return lines.joined(separator: "\n")
    }

    private func revision(_ full: Int) -> String { "v\(full / 100).\(full % 100)" }
    private func pad(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(0, width - text.count))
    }
}
