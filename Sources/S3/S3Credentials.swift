import Foundation

/// An access key pair (and session token, for temporary credentials). The description shows the access key id only.
public struct S3Credentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public let accessKeyID: String
    public let secretAccessKey: String
    public let sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    public var description: String {
        "S3Credentials(accessKeyID: \(accessKeyID), secretAccessKey: <redacted>"
            + (sessionToken == nil ? ")" : ", sessionToken: <redacted>)")
    }
    public var debugDescription: String { description }

    /// Credentials found as the AWS CLI finds them, in this order:
    /// 1. `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (with `AWS_SESSION_TOKEN`) — unless a profile is passed
    ///    explicitly, which (as `aws --profile`) skips the environment;
    /// 2. the shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`), section
    ///    `[PROFILE]` where PROFILE is `profile`, else `AWS_PROFILE`, else `default`;
    /// 3. the config file (`AWS_CONFIG_FILE`, else `~/.aws/config`), section `[profile PROFILE]` (`[default]`).
    /// SSO, `credential_process`, assumed roles and instance metadata are not read.
    public static func resolve(
        environment: [String: String] = ProcessInfo.processInfo.environment, profile: String? = nil
    ) throws(S3Error) -> S3Credentials {
        if profile == nil || profile?.isEmpty == true,
            let fromEnvironment = try fromEnvironment(environment)
        {
            return fromEnvironment
        }
        let config = AWSSharedConfig(environment: environment)
        let name = config.profileName(profile)
        let credentialsSection = config.credentialsSection(name)
        let configSection = config.configSection(name)
        for (section, file) in [(credentialsSection, config.credentialsPath), (configSection, config.configPath)] {
            guard let section, let found = try fromSection(section, profile: name, file: file) else { continue }
            return found
        }
        let namedExplicitly = profile?.isEmpty == false || name != "default"
        if namedExplicitly && credentialsSection == nil && configSection == nil {
            throw .missingCredentials(
                "profile '\(name)' is in neither \(config.credentialsPath) nor \(config.configPath)")
        }
        throw .missingCredentials(
            "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give profile '\(name)' aws_access_key_id and "
                + "aws_secret_access_key in \(config.credentialsPath)")
    }

    private static func fromEnvironment(_ environment: [String: String]) throws(S3Error) -> S3Credentials? {
        let keyID = environment["AWS_ACCESS_KEY_ID"].flatMap { $0.isEmpty ? nil : $0 }
        let secret = environment["AWS_SECRET_ACCESS_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        switch (keyID, secret) {
        case (nil, nil): return nil
        case (let keyID?, let secret?):
            let token = (environment["AWS_SESSION_TOKEN"] ?? environment["AWS_SECURITY_TOKEN"])
                .flatMap { $0.isEmpty ? nil : $0 }
            return S3Credentials(accessKeyID: keyID, secretAccessKey: secret, sessionToken: token)
        case (nil, _): throw .missingCredentials("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not")
        case (_, nil): throw .missingCredentials("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
        }
    }

    private static func fromSection(
        _ section: [String: String], profile: String, file: String
    ) throws(S3Error) -> S3Credentials? {
        let keyID = section["aws_access_key_id"].flatMap { $0.isEmpty ? nil : $0 }
        let secret = section["aws_secret_access_key"].flatMap { $0.isEmpty ? nil : $0 }
        switch (keyID, secret) {
        case (nil, nil): return nil
        case (let keyID?, let secret?):
            let token = (section["aws_session_token"] ?? section["aws_security_token"]).flatMap {
                $0.isEmpty ? nil : $0
            }
            return S3Credentials(accessKeyID: keyID, secretAccessKey: secret, sessionToken: token)
        default:
            throw .missingCredentials(
                "profile '\(profile)' in \(file) needs both aws_access_key_id and aws_secret_access_key")
        }
    }
}
