import Foundation

// Where the service's signing keys live (DATA/signing unless `ota serve --signing-key-dir`). A signing profile
// created through the API names its key inside this directory: an API caller must not be able to point the service
// at any file on the server (another key, /etc/shadow) and learn from the error whether it exists or its mode.

public struct SigningKeyStore: Sendable {
    public let directory: String

    /// `directory`, made absolute against the working directory when it is relative (`ota serve --data-dir data`).
    public init(directory: String) {
        let absolute =
            directory.hasPrefix("/") ? directory : FileManager.default.currentDirectoryPath + "/" + directory
        self.directory = (absolute as NSString).standardizingPath
    }

    /// The absolute path of the key `reference` names: a path relative to the store (`demo.key`, `team/ci.key`) or
    /// an absolute path inside it. Refused, without touching the file: `..`, control characters, anything outside
    /// the store, a key that is not there, and a symbolic link that leads out of the store.
    public func resolve(_ reference: String) throws(OTAServiceError) -> String {
        let refusal = OTAServiceError.invalidRequest(
            "keyPath must name a key file inside the service's key store \(directory) (relative to it, or absolute "
                + "within it); put the key there with mode 0600")
        guard !reference.isEmpty, reference.utf8.count <= 1024, !reference.utf8.contains(where: { $0 < 0x20 }),
            !reference.split(separator: "/").contains("..")
        else { throw refusal }
        let root = directory
        let candidate = reference.hasPrefix("/") ? reference : root + "/" + reference
        let standardized = (candidate as NSString).standardizingPath
        guard standardized.hasPrefix(root + "/") else { throw refusal }
        // Symbolic links resolved on both sides: a link inside the store may not lead out of it.
        let realRoot = (root as NSString).resolvingSymlinksInPath
        let real = (standardized as NSString).resolvingSymlinksInPath
        guard real.hasPrefix(realRoot + "/"), FileManager.default.fileExists(atPath: real) else { throw refusal }
        return real
    }
}
