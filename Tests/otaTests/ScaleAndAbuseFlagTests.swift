import Foundation
import TestSupport
import Testing

// The flags this wave added refuse bad values with a usage error (exit 64) and a message naming the flag, before
// anything starts.
@Suite struct ScaleAndAbuseFlagTests {
    @Test(arguments: [
        (
            ["serve", "--data-dir", "/nonexistent/ota", "--mqtt-client-messages-per-second", "0"],
            "--mqtt-client-messages-per-second"
        ),
        (
            ["serve", "--data-dir", "/nonexistent/ota", "--mqtt-client-bytes-per-second", "nan"],
            "--mqtt-client-bytes-per-second"
        ),
        (["demo", "--instances", "3"], "--instances needs --database"),
        (["demo", "--instances", "9", "--database", "postgres://u@127.0.0.1/d"], "--instances must be 1–5"),
        (["demo", "--database", "mysql://u@h/d"], "postgres"),
        (["bench", "fleet", "--through-haproxy"], "--through-haproxy needs --database"),
        (["bench", "fleet", "--rounds", "2"], "--rounds needs --database"),
        (["bench", "fleet", "--rounds", "0", "--database", "postgres://u@127.0.0.1/d"], "--rounds must be 1–20"),
        (["bench", "abuse", "--build-up", "601"], "--build-up"),
        (["bench", "abuse", "--attack-addresses", "0"], "--attack-addresses"),
    ])
    func aBadFlagIsAUsageError(arguments: [String], message: String) async throws {
        let result = try await OTACLI.run(arguments)
        #expect(result.status == 64, "\(arguments): \(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
    }
}
