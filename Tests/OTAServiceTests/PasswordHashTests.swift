import Foundation
import OTAService
import Testing

@Suite struct PasswordHashTests {
    /// Small parameters: the format and the checks, not the cost, are under test here.
    static let quick = PasswordHash.Parameters(rounds: 1 << 10, blockSize: 8, parallelism: 1)

    @Test func theRightPasswordVerifiesAndNothingElseDoes() throws {
        let encoded = try PasswordHash.make("correct horse battery", parameters: Self.quick)
        #expect(encoded.hasPrefix("scrypt$1024$8$1$"))
        #expect(PasswordHash.verify("correct horse battery", against: encoded))
        #expect(!PasswordHash.verify("correct horse batterY", against: encoded))
        #expect(!PasswordHash.verify("", against: encoded))
        let again = try PasswordHash.make("correct horse battery", parameters: Self.quick)
        #expect(again != encoded, "a fresh salt each time")
    }

    @Test func theStandardParametersAreMemoryHard() throws {
        let encoded = try PasswordHash.make("correct horse battery")
        #expect(encoded.hasPrefix("scrypt$32768$8$1$"))
        #expect(PasswordHash.verify("correct horse battery", against: encoded))
    }

    @Test func malformedOrExcessiveHashesNeverVerify() throws {
        let encoded = try PasswordHash.make("correct horse battery", parameters: Self.quick)
        let parts: [String] = encoded.split(separator: "$").map(String.init)
        func with(_ index: Int, _ value: String) -> String {
            var changed = parts
            changed[index] = value
            return changed.joined(separator: "$")
        }
        let variants: [String] = [
            "", "scrypt", encoded + "$", with(0, "bcrypt"),
            with(1, "1000"),  // N not a power of two
            with(1, "16777216"),  // gigabytes of memory
            with(5, "AAAA"),  // a hash of the wrong length
            with(4, "not base64!"),
        ]
        for variant in variants {
            #expect(!PasswordHash.verify("correct horse battery", against: variant), "\(variant)")
        }
    }
}
