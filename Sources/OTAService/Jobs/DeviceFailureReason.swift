import OTAWire

// Reads the `reason` an OTA agent puts in a FAILED report's statusDetails. An ingest failure is
// "0x<main>: 0x<sub>" with the PAL status's main code (aws-ota-wire.md §"Numeric codes"): 0xe3 is
// SignatureCheckFailed, 0xe7 BadSignerCert. Both mean the device refused the image's signature.

enum DeviceFailureReason {
    private static let signatureCodes: Set<String> = ["0x000000e3", "0x000000e7"]

    /// Whether stored statusDetails (JSON text) carry a reason whose main code is a signature failure.
    static func isSignatureFailure(_ statusDetails: String?) -> Bool {
        guard let statusDetails, case .object(let details)? = try? JSONParser.parse(statusDetails),
            case .string(let reason)? = details["reason"]
        else { return false }
        guard let main = reason.split(separator: ":", maxSplits: 1).first else { return false }
        return signatureCodes.contains(main.lowercased())
    }
}
