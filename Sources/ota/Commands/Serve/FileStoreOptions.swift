import ArgumentParser
import Foundation
import OTAService
import S3

/// `ota serve`'s file store: the data directory (default), PostgreSQL (default with --database) or an S3-compatible
/// bucket, with credentials found as the AWS CLI finds them.
struct FileStoreOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Where file contents live: local (DATA/blobs), postgres (in --database; its default) or s3://BUCKET[/PREFIX].",
            discussion:
                "Several instances need a store they all reach: postgres or a bucket. S3 credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN), else the "
                + "shared credentials file (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials) and config file, "
                + "profile AWS_PROFILE or --s3-profile or default. The bucket must exist; the start fails otherwise."))
    var fileStore: String?
    @Option(help: "S3-compatible endpoint (MinIO, Ceph, R2, …); default AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL or AWS.")
    var s3Endpoint: String?
    @Option(help: "Region requests are signed for; default AWS_REGION, AWS_DEFAULT_REGION, the profile's, us-east-1.")
    var s3Region: String?
    @Flag(help: "Path-style requests (ENDPOINT/BUCKET/KEY), as most S3-compatible servers need; always for IP hosts.")
    var s3PathStyle = false
    @Option(help: "Profile of the shared credentials and config files (default AWS_PROFILE, else default).")
    var s3Profile: String?

    func validate() throws {
        if let fileStore, !["local", "postgres"].contains(fileStore) && !fileStore.hasPrefix("s3://") {
            throw ValidationError("--file-store must be local, postgres or s3://BUCKET[/PREFIX], not '\(fileStore)'")
        }
        if fileStore?.hasPrefix("s3://") != true
            && (s3Endpoint != nil || s3Region != nil || s3PathStyle || s3Profile != nil)
        {
            throw ValidationError("--s3-* options need --file-store s3://BUCKET[/PREFIX]")
        }
    }

    /// The store named, or nil for the service's default (PostgreSQL with a database, else the data directory); a bad
    /// location, region or missing credentials throw here, before anything is started.
    func makeStore(
        database: PostgresDatabaseURL?, dataDirectory: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> (any FileStore)? {
        switch fileStore {
        case nil:
            return nil
        case "postgres":
            guard database != nil else { throw ValidationError("--file-store postgres needs --database postgres://…") }
            return nil
        case "local":
            return database == nil ? nil : try LocalFileStore(root: dataDirectory + "/blobs")
        default:
            break
        }
        guard let fileStore else { return nil }
        let location = try S3Location(parsing: fileStore)
        let credentials = try S3Credentials.resolve(environment: environment, profile: s3Profile)
        let region = try s3Region ?? S3Endpoint.resolveRegion(environment: environment, profile: s3Profile)
        var endpoint = try S3Endpoint.resolve(environment: environment, profile: s3Profile)
        if let s3Endpoint {
            endpoint = try S3Endpoint(
                url: s3Endpoint, region: region, pathStyle: s3PathStyle || Self.needsPathStyle(s3Endpoint))
        } else if s3Region != nil || s3PathStyle {
            endpoint = try S3Endpoint(url: endpoint.url, region: region, pathStyle: s3PathStyle || endpoint.pathStyle)
        }
        // Uploads reach the service whole (an app image is validated first) and are at most 16 MiB: multipart from
        // 8 MiB, in S3's smallest parts, so a large partition image does not go up as one long request.
        let client = S3Client(
            endpoint: endpoint, credentials: credentials, multipartThreshold: 8 << 20,
            partSize: S3Client.minimumPartSize)
        return S3FileStore(client: client, location: location)
    }

    /// Virtual-hosted requests put the bucket in the host name, which cannot work for an IP address or localhost.
    static func needsPathStyle(_ endpoint: String) -> Bool {
        guard let host = URLComponents(string: endpoint)?.host?.lowercased() else { return false }
        let isIPv4 = host.split(separator: ".").count == 4 && host.split(separator: ".").allSatisfy { UInt8($0) != nil }
        return host == "localhost" || host.contains(":") || isIPv4
    }
}
