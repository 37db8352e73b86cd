import Foundation

/// The AWS CLI's shared files, read as it reads them: `~/.aws/credentials` (sections named after the profile) and
/// `~/.aws/config` (`[default]`, else `[profile NAME]`), each movable by an environment variable.
struct AWSSharedConfig {
    let environment: [String: String]

    /// The profile asked for: an explicit one, else `AWS_PROFILE` (`AWS_DEFAULT_PROFILE` for old CLIs), else default.
    func profileName(_ explicit: String?) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        for name in ["AWS_PROFILE", "AWS_DEFAULT_PROFILE"] {
            if let value = environment[name], !value.isEmpty { return value }
        }
        return "default"
    }

    var credentialsPath: String {
        path(environment["AWS_SHARED_CREDENTIALS_FILE"], default: ".aws/credentials")
    }
    var configPath: String { path(environment["AWS_CONFIG_FILE"], default: ".aws/config") }

    /// The profile's keys in the credentials file; nil when the file or the section is absent.
    func credentialsSection(_ profile: String) -> [String: String]? {
        Self.parse(Self.read(credentialsPath))?[profile]
    }

    /// The profile's keys in the config file, where profiles other than the default are `[profile NAME]`.
    func configSection(_ profile: String) -> [String: String]? {
        guard let sections = Self.parse(Self.read(configPath)) else { return nil }
        if profile == "default", let plain = sections["default"] { return plain }
        return sections["profile \(profile)"]
    }

    private func path(_ override: String?, default relative: String) -> String {
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        guard let override, !override.isEmpty else { return home + "/" + relative }
        // The CLI expands a leading ~ in these variables.
        if override == "~" { return home }
        if override.hasPrefix("~/") { return home + override.dropFirst() }
        return override
    }

    private static func read(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// INI as Python's configparser reads these files: `[section]`, `key = value` (or `key: value`), comment lines
    /// starting with `#` or `;`, key names case-insensitive. Indented lines continue the previous value — nested
    /// settings such as `s3 =` followed by `  addressing_style = path` — and are not top-level keys.
    static func parse(_ text: String?) -> [String: [String: String]]? {
        guard let text else { return nil }
        var sections: [String: [String: String]] = [:]
        var current: String?
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if rawLine.first == " " || rawLine.first == "\t" { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]") else {
                    current = nil
                    continue
                }
                let name = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                current = name
                sections[name, default: [:]] = sections[name] ?? [:]
                continue
            }
            guard let section = current,
                let separator = line.firstIndex(where: { $0 == "=" || $0 == ":" })
            else { continue }
            let key = line[..<separator].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: separator)...].trimmingCharacters(in: .whitespaces)
            sections[section, default: [:]][key] = value
        }
        return sections
    }
}
