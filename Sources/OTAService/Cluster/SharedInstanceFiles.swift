import Foundation

// What every instance of one service must hold the same copy of (docs/deploy.md): the PKI (the device CA devices
// trust and the server certificate), the admin and metrics tokens (one Prometheus credential scrapes them all), and
// the key that signs data-plane URLs (a URL signed by one instance is served by any). Everything else is in the
// shared database or per instance.

public enum SharedInstanceFiles {
    /// The names, relative to a data directory.
    public static let names = ["pki", "admin-token", "metrics-token", "data-url.key"]

    /// Copies them from one instance's data directory into another's (created when missing).
    public static func copy(from source: String, to destination: String) throws {
        try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: true)
        for name in names {
            try FileManager.default.copyItem(atPath: source + "/" + name, toPath: destination + "/" + name)
        }
    }
}
