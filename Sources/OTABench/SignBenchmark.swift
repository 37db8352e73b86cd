import CodeSigning
import Crypto
import Foundation

/// `ota bench sign`: signing and verifying a file (streamed read, SHA-256, ECDSA P-256) against openssl dgst on the
/// same file. openssl runs as a process; its start-up, measured as `openssl version` (same binary, same libcrypto),
/// is subtracted so that both sides are timed for the same work.
public struct SignBenchmark: Sendable {
    /// File size in bytes.
    public var size: Int
    /// Runs of each measurement; the median is reported.
    public var iterations: Int

    public init(size: Int, iterations: Int) {
        self.size = size
        self.iterations = iterations
    }

    public struct Side: Encodable {
        let oursMilliseconds: Double
        let opensslMilliseconds: Double
        let ratio: Double
    }

    public struct Result: Encodable {
        let build: String
        let fileBytes: Int
        let iterations: Int
        let opensslStartMilliseconds: Double
        let readMilliseconds: Double
        let sha256Milliseconds: Double
        let ecdsaSignMilliseconds: Double
        let sign: Side
        let verify: Side
        let target: Double
    }

    public func run() throws -> Result {
        let directory = try Timing.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

        let key = P256.Signing.PrivateKey()
        try KeyFiles.writePrivateKey(key, to: path("key.pem"), format: .sec1PEM)
        try KeyFiles.writePublicKey(key.publicKey, to: path("pub.pem"), format: .pem)
        try Files.write(Timing.randomBytes(size), to: path("file.bin"))
        let signer = SoftwareSigningKey(key)
        let signature = try CodeSigner.sign(try Files.read(path("file.bin")), with: signer)
        try Files.write(signature.der, to: path("file.sig"))

        let openssl = try Timing.locate("openssl")
        let signArguments = [
            "dgst", "-sha256", "-sign", path("key.pem"), "-out", path("openssl.sig"), path("file.bin"),
        ]
        let verifyArguments = [
            "dgst", "-sha256", "-verify", path("pub.pem"), "-signature", path("file.sig"), path("file.bin"),
        ]
        // Warm the page cache and the dynamic loader once, untimed.
        try Timing.runProcess(openssl, signArguments)
        try Timing.runProcess(openssl, verifyArguments)

        let oursSign = try Timing.measure(iterations) {
            _ = try CodeSigner.sign(fileAt: path("file.bin"), with: signer)
        }
        let oursVerify = try Timing.measure(iterations) {
            try CodeSigner.verify(fileAt: path("file.bin"), signature: signature, publicKey: key.publicKey)
        }
        let bytes = try Files.read(path("file.bin"))
        let readOnly = try Timing.measure(iterations) { _ = try Files.read(path("file.bin")) }
        let hashOnly = Timing.measure(iterations) { _ = CodeSigner.digest(of: bytes) }
        let digest = CodeSigner.digest(of: bytes)
        let ecdsaOnly = try Timing.measure(iterations) { _ = try CodeSigner.sign(digest: digest, with: signer) }
        let start = try Timing.measure(iterations) { try Timing.runProcess(openssl, ["version"]) }
        let theirSign = try Timing.measure(iterations) { try Timing.runProcess(openssl, signArguments) }
        let theirVerify = try Timing.measure(iterations) { try Timing.runProcess(openssl, verifyArguments) }

        let startMS = Timing.milliseconds(start)
        func side(_ ours: Duration, _ theirs: Duration) -> Side {
            let oursMS = Timing.milliseconds(ours)
            let theirsMS = max(Timing.milliseconds(theirs) - startMS, 0.001)
            return Side(oursMilliseconds: oursMS, opensslMilliseconds: theirsMS, ratio: oursMS / theirsMS)
        }
        return Result(
            build: Timing.buildConfiguration, fileBytes: size, iterations: iterations,
            opensslStartMilliseconds: startMS,
            readMilliseconds: Timing.milliseconds(readOnly), sha256Milliseconds: Timing.milliseconds(hashOnly),
            ecdsaSignMilliseconds: Timing.milliseconds(ecdsaOnly),
            sign: side(oursSign, theirSign), verify: side(oursVerify, theirVerify), target: 1.1)
    }

    public static func render(_ result: Result) -> String {
        """
        ota bench sign (\(result.build) build, \(result.fileBytes)-byte file, medians of \(result.iterations) runs)
                  ours (streamed read, SHA-256, ECDSA)   openssl dgst (start-up \
        \(Timing.format(result.opensslStartMilliseconds)) ms excluded)   ratio
          sign    \(Timing.format(result.sign.oursMilliseconds)) ms                        \
        \(Timing.format(result.sign.opensslMilliseconds)) ms                                  \
        \(Timing.format(result.sign.ratio))x
          verify  \(Timing.format(result.verify.oursMilliseconds)) ms                        \
        \(Timing.format(result.verify.opensslMilliseconds)) ms                                  \
        \(Timing.format(result.verify.ratio))x
          ours, in parts: whole-file read \(Timing.format(result.readMilliseconds)) ms, SHA-256 \
        \(Timing.format(result.sha256Milliseconds)) ms, ECDSA sign \(Timing.format(result.ecdsaSignMilliseconds)) ms
          target: ratio <= \(result.target)x\
        \(result.build == "debug" ? "\n  note: debug build; use swift run -c release ota bench sign" : "")
        """
    }
}
