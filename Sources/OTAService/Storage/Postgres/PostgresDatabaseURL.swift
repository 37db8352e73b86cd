import Foundation
import NIOSSL
import PostgresNIO

// `postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=MODE&sslrootcert=PATH]`, as libpq reads it (the same URL
// works with psql). sslmode: disable, allow and prefer (TLS when the server offers it, certificate not checked),
// require (TLS or nothing, certificate not checked), verify-ca (the chain against sslrootcert or the system's
// roots), verify-full (that and the host name). libpq's default is prefer, and so is ours.

public struct PostgresDatabaseURL: Sendable, CustomStringConvertible {
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var sslMode: SSLMode
    public var sslRootCertificate: String?

    public init(_ text: String) throws {
        func bad(_ why: String) -> OTAServiceError {
            .invalidRequest("--database: \(why) (expected postgres://USER[:PASSWORD]@HOST[:PORT]/DB)")
        }
        guard let components = URLComponents(string: text),
            let scheme = components.scheme, scheme == "postgres" || scheme == "postgresql"
        else { throw bad("not a postgres:// URL") }
        guard let host = components.host, !host.isEmpty else { throw bad("no host") }
        guard let user = components.user, !user.isEmpty else { throw bad("no user") }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else { throw bad("no database name") }
        if let port = components.port, !(1...65535).contains(port) { throw bad("port out of range") }
        self.host = host
        self.port = components.port ?? 5432
        self.user = user
        self.password = components.password
        self.database = database
        var sslMode = SSLMode.prefer
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(SSLMode.init(rawValue:)) else {
                    throw bad(
                        "sslmode must be one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                sslMode = mode
            case "sslrootcert":
                sslRootCertificate = item.value
            default:
                throw bad("unknown parameter \(item.name)")
            }
        }
        self.sslMode = sslMode
    }

    /// The URL without its password, for logs and the status page.
    public var description: String {
        "postgres://\(user)@\(host):\(port)/\(database)" + (sslMode == .prefer ? "" : "?sslmode=\(sslMode.rawValue)")
    }

    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: try tls())
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    /// The whole URL, password included, for handing to a child process; never for a log.
    public var secretURLString: String {
        var components = URLComponents()
        components.scheme = "postgres"
        components.user = user
        components.password = password
        components.host = host
        components.port = port
        components.path = "/" + database
        var query = [URLQueryItem(name: "sslmode", value: sslMode.rawValue)]
        if let sslRootCertificate { query.append(URLQueryItem(name: "sslrootcert", value: sslRootCertificate)) }
        components.queryItems = query
        return components.string ?? description
    }

    /// The same server, another database (tests and the fleet bench create scratch databases through the
    /// maintenance one).
    func with(database: String) -> PostgresDatabaseURL {
        var copy = self
        copy.database = database
        return copy
    }

    private func tls() throws -> PostgresConnection.Configuration.TLS {
        var tls = TLSConfiguration.makeClientConfiguration()
        switch sslMode {
        case .disable:
            return .disable
        case .allow, .prefer, .require:
            tls.certificateVerification = .none
        case .verifyCA, .verifyFull:
            tls.certificateVerification = sslMode == .verifyFull ? .fullVerification : .noHostnameVerification
            if let sslRootCertificate {
                tls.trustRoots = .file(sslRootCertificate)
            }
        }
        let context = try NIOSSLContext(configuration: tls)
        return sslMode == .allow || sslMode == .prefer ? .prefer(context) : .require(context)
    }
}
