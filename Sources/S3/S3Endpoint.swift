import Foundation

/// Where requests go: scheme, host and port, the region they are signed for, and the addressing style.
///
/// Virtual-hosted style (`https://BUCKET.s3.REGION.amazonaws.com/KEY`) is AWS's default; path style
/// (`http://HOST:PORT/BUCKET/KEY`) is what S3-compatible servers (MinIO, moto, Ceph) and IP endpoints need.
public struct S3Endpoint: Sendable, Equatable, CustomStringConvertible {
    /// `scheme://host[:port]`, without a trailing slash.
    public let url: String
    public let region: String
    public let pathStyle: Bool

    let scheme: String
    /// The host as it appears in a URL (an IPv6 address in brackets).
    let host: String
    /// The port, nil for the scheme's default (then it is not part of the Host header, as HTTP clients send it).
    let port: Int?

    /// An endpoint from its URL (`http://127.0.0.1:9000`, `https://s3.example.com`); http and https only, no path.
    public init(url: String, region: String, pathStyle: Bool = true) throws(S3Error) {
        try Self.validateRegion(region)
        var text = Substring(url)
        if text.hasSuffix("/") { text = text.dropLast() }
        guard let components = URLComponents(string: String(text)), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https"
        else { throw .invalidArgument("endpoint '\(url)' is not an http:// or https:// URL") }
        guard let rawHost = components.host, !rawHost.isEmpty else {
            throw .invalidArgument("endpoint '\(url)' has no host")
        }
        guard components.path.isEmpty, components.query == nil, components.fragment == nil,
            components.user == nil, components.password == nil
        else { throw .invalidArgument("endpoint '\(url)' must be scheme://host[:port] only, without path or query") }
        let host = rawHost.contains(":") && !rawHost.hasPrefix("[") ? "[\(rawHost)]" : rawHost
        let defaultPort = scheme == "https" ? 443 : 80
        let port: Int?
        if let given = components.port {
            guard (1...65535).contains(given) else { throw .invalidArgument("endpoint '\(url)' has a bad port") }
            port = given == defaultPort ? nil : given
        } else {
            port = nil
        }
        self.scheme = scheme
        self.host = host.lowercased()
        self.port = port
        self.url = "\(scheme)://\(self.host)" + (port.map { ":\($0)" } ?? "")
        self.region = region
        self.pathStyle = pathStyle
    }

    /// AWS itself: `https://s3.REGION.amazonaws.com`, virtual-hosted style.
    public static func aws(region: String) throws(S3Error) -> S3Endpoint {
        try S3Endpoint(url: "https://s3.\(region).amazonaws.com", region: region, pathStyle: false)
    }

    /// The endpoint the AWS CLI would use: `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL` (path style, as for any
    /// S3-compatible server), else AWS in the region from `resolveRegion`.
    public static func resolve(
        environment: [String: String] = ProcessInfo.processInfo.environment, profile: String? = nil
    ) throws(S3Error) -> S3Endpoint {
        let region = try resolveRegion(environment: environment, profile: profile)
        for name in ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"] {
            if let url = environment[name], !url.isEmpty {
                return try S3Endpoint(url: url, region: region, pathStyle: true)
            }
        }
        return try aws(region: region)
    }

    /// The region as the AWS CLI finds it: `AWS_REGION`, `AWS_DEFAULT_REGION`, the config file's `region` for the
    /// profile (`profile`, else `AWS_PROFILE`, else default), else `us-east-1`.
    public static func resolveRegion(
        environment: [String: String] = ProcessInfo.processInfo.environment, profile: String? = nil
    ) throws(S3Error) -> String {
        var region = "us-east-1"
        if let value = environment["AWS_REGION"], !value.isEmpty {
            region = value
        } else if let value = environment["AWS_DEFAULT_REGION"], !value.isEmpty {
            region = value
        } else {
            let config = AWSSharedConfig(environment: environment)
            if let value = config.configSection(config.profileName(profile))?["region"], !value.isEmpty {
                region = value
            }
        }
        try validateRegion(region)
        return region
    }

    /// A region is part of the signing scope and of AWS host names: lowercase letters, digits and hyphens.
    static func validateRegion(_ region: String) throws(S3Error) {
        let allowed = region.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "-")
        }
        guard !region.isEmpty, region.utf8.count <= 64, allowed else {
            throw .invalidArgument("region '\(region)' is not a region name (such as us-east-1)")
        }
    }

    /// The Host header: the host, with the port when it is not the scheme's default.
    var hostHeader: String { host + (port.map { ":\($0)" } ?? "") }

    /// Host and path for an object (or, with no key, the bucket). A bucket with dots goes path style even on AWS:
    /// in virtual-hosted style it would not match the `*.s3.REGION.amazonaws.com` TLS certificate.
    func address(bucket: String, key: String?) -> (host: String, path: String) {
        let keyPath = key.map { "/" + $0 } ?? "/"
        if pathStyle || bucket.contains(".") {
            return (hostHeader, "/" + bucket + (key.map { "/" + $0 } ?? ""))
        }
        return ("\(bucket).\(hostHeader)", keyPath)
    }

    public var description: String { url }
}
