import ArgumentParser
import OTABench
import OTAService

/// `--image-size` of the fleet benches: 64 KiB … 1400 KiB (the bench slots are 1.5 MiB).
func parseBenchImageSize(_ text: String) throws -> Int {
    guard let value = parseByteCount(text), (64 << 10)...(1_400 << 10) ~= value else {
        throw ValidationError("the image size must be 64 KiB … 1400 KiB (the bench slots are 1.5 MiB)")
    }
    return value
}

/// The fleet and abuse benches reach the services they start through the CLI's own API client.
struct CLIBenchAPI: BenchManagementAPI {
    func withClient<T>(
        server: String, dataDirectory: String, _ body: (any BenchAPIClient) async throws -> T
    ) async throws -> T {
        try await ConnectionOptions.parse(["--server", server, "--data-dir", dataDirectory]).withClient {
            try await body($0)
        }
    }
}

extension APIClient: BenchAPIClient {
    func post(_ path: String, json: [String: Any]) async throws { try await send(.POST, path, json: json) }
}
