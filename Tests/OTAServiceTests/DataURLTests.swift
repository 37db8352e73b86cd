import Crypto
import Foundation
import OTAService
import TestSupport
import Testing

@Suite struct DataURLTests {
    static let signer = DataURLSigner(key: SymmetricKey(data: Array("a test key of 32 bytes or more...".utf8)))
    static let file = String(repeating: "ab", count: 32)

    /// The parts of a query as the data route reads them.
    static func parts(_ query: String) -> [String: String] {
        Dictionary(
            uniqueKeysWithValues: query.split(separator: "&").map {
                let pair = $0.split(separator: "=", maxSplits: 1)
                return (String(pair[0]), String(pair[1]))
            })
    }

    @Test func aURLVerifiesUntilItExpiresAndOnlyForWhatItWasIssuedFor() throws {
        let query = Self.parts(Self.signer.query(fileID: Self.file, thing: "dev", expires: 1000))
        func verify(file: String = Self.file, thing: String? = "dev", expires: String? = "1000", now: Int64 = 999)
            throws
        {
            try Self.signer.verify(
                fileID: file, thing: thing, expires: expires, signature: query["signature"], now: now)
        }
        try verify()
        #expect(throws: OTAServiceError.self) { try verify(now: 1000) }
        #expect(throws: OTAServiceError.self) { try verify(file: String(repeating: "cd", count: 32)) }
        #expect(throws: OTAServiceError.self) { try verify(thing: "other") }
        #expect(throws: OTAServiceError.self) { try verify(thing: nil) }
        #expect(throws: OTAServiceError.self) { try verify(expires: "1001") }
        #expect(throws: OTAServiceError.self) { try verify(expires: "1e3") }
        #expect(throws: OTAServiceError.self) { try verify(expires: nil) }
        // A signature missing, not hex, or cut short.
        let signature = try #require(query["signature"])
        for bad in [nil, "", "zz" + signature.dropFirst(2), String(signature.dropLast(2))] {
            #expect(throws: OTAServiceError.self) {
                try Self.signer.verify(fileID: Self.file, thing: "dev", expires: "1000", signature: bad, now: 999)
            }
        }
        // Another service's key signs differently.
        let other = DataURLSigner(key: SymmetricKey(data: Array("another key of 32 bytes or more..".utf8)))
        let foreign = Self.parts(other.query(fileID: Self.file, thing: "dev", expires: 1000))
        #expect(throws: OTAServiceError.self) {
            try Self.signer.verify(
                fileID: Self.file, thing: "dev", expires: "1000", signature: foreign["signature"], now: 0)
        }
        for garbage in ["", "zz", String(repeating: "0", count: 64), String(repeating: "g", count: 64)] {
            #expect(throws: OTAServiceError.self) {
                try Self.signer.verify(fileID: Self.file, thing: "dev", expires: "1000", signature: garbage, now: 0)
            }
        }
    }

    @Test func theKeyIsMadeOnceWithMode0600AndRefusedWhenOthersCanReadIt() throws {
        let directory = try TemporaryDirectory("data-url-key")
        let path = directory.path("data-url.key")
        let first = try DataURLSigner.openOrCreate(path: path)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        let again = try DataURLSigner.openOrCreate(path: path)
        let query = first.query(fileID: Self.file, thing: "dev", expires: 50)
        #expect(again.query(fileID: Self.file, thing: "dev", expires: 50) == query)
        chmod(path, 0o644)
        #expect(throws: OTAServiceError.self) { _ = try DataURLSigner.openOrCreate(path: path) }
    }

    @Test(arguments: [
        ("bytes=0-4095", 0, 4095), ("bytes=4096-8191", 4096, 8191), ("bytes=8192-99999", 8192, 9999),
        ("bytes=9000-", 9000, 9999), ("bytes=-100", 9900, 9999), ("bytes=-20000", 0, 9999), ("bytes= 1-2 ", 1, 2),
    ])
    func rangesTheDataPlaneServes(header: String, first: Int, last: Int) throws {
        let range = try ByteRange(header: header, size: 10_000)
        #expect(range.first == first && range.last == last && range.count == last - first + 1)
    }

    @Test(arguments: [
        "bytes=10000-", "bytes=0-1,3-4", "bits=0-1", "bytes=5-4", "bytes=-0", "bytes=-", "bytes=a-b", "bytes=+1-2",
        "bytes=0-99999999999999999999", "",
    ])
    func rangesItRefuses(header: String) {
        #expect(throws: ByteRangeError.self) { _ = try ByteRange(header: header, size: 10_000) }
    }
}
