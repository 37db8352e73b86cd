import ArgumentParser
import Foundation
import OTAService

/// `ota serve`'s options for where files live and how devices fetch them over HTTPS.
struct FileDeliveryOptions: ParsableArguments {
    @Option(help: "MiB of file contents kept in memory for delivery (shared by every device).")
    var fileCacheMib = FileContentCache.defaultCapacityBytes >> 20
    @Option(
        help: ArgumentHelp(
            "How URLs for HTTP updates on this service's HTTPS port begin, e.g. https://ota.example.com.",
            discussion: "Default: https://<first --server-name, else 127.0.0.1>:<api port>. The unmodified "
                + "FreeRTOS HTTP demo connects to port 443 whatever the URL says: serve it there, or behind a proxy."))
    var dataUrlBase: String?
    @Option(help: "Seconds each data URL stays valid (60–3600; a fresh one comes with every job document).")
    var dataUrlExpiry = 1800

    func validate() throws {
        guard DataURLs.expiryRange.contains(dataUrlExpiry) else {
            throw ValidationError("--data-url-expiry must be 60–3600 seconds, not \(dataUrlExpiry)")
        }
        // The largest image a FreeRTOS agent accepts is 4 MiB: the cache must hold at least one.
        guard (4...65_536).contains(fileCacheMib) else {
            throw ValidationError("--file-cache-mib must be 4–65536, not \(fileCacheMib)")
        }
        if let dataUrlBase {
            let parts = URLComponents(string: dataUrlBase)
            guard let parts, parts.scheme == "https", parts.host?.isEmpty == false, parts.user == nil,
                parts.password == nil, parts.query == nil, parts.fragment == nil, dataUrlBase.utf8.count <= 200
            else {
                throw ValidationError(
                    "--data-url-base must be https://HOST[:PORT][/PATH] without user, query or fragment (≤ 200 bytes)")
            }
        }
    }

    func apply(to configuration: inout OTAServerConfiguration) {
        configuration.fileCacheBytes = fileCacheMib << 20
        configuration.dataURLBase = dataUrlBase
        configuration.dataURLExpirySeconds = dataUrlExpiry
    }
}
