import OTAWire

// CreateOTAUpdate as SwiftOTA takes it (aws-ota-wire.md §9.1), validated before anything is stored.

public struct CreateUpdateRequest: Sendable, Codable, Equatable {
    public var id: String
    public var description: String?
    /// The stored file's id (sha256 hex).
    public var fileID: String
    /// What the job document's `filepath` says (AWS: `fileName`): where the device stores the file. The FreeRTOS
    /// POSIX port writes the image there; the ESP32 port ignores it. Default: the uploaded file's name.
    public var fileName: String?
    /// 0 = firmware; other values are data files (no reboot, no self-test).
    public var fileType: Int?
    public var signingProfile: String
    /// base64 DER signature made by the user; nil asks the service to sign with the profile's key.
    public var signature: String?
    public var things: [String]?
    public var groups: [String]?
    public var targetSelection: TargetSelection?
    public var rollout: RolloutConfig?
    public var abortCriteria: [AbortCriterion]?
    public var inProgressTimeoutMinutes: Int?
    /// How devices may fetch the file: `["MQTT"]` (default, stream blocks), `["HTTP"]` (a short-lived URL in the job
    /// document) or both, the device choosing (AWS CreateOTAUpdate `protocols`).
    public var protocols: [String]?

    public init(
        id: String, description: String? = nil, fileID: String, fileName: String? = nil, fileType: Int? = nil,
        signingProfile: String, signature: String? = nil, things: [String]? = nil, groups: [String]? = nil,
        targetSelection: TargetSelection? = nil, rollout: RolloutConfig? = nil, abortCriteria: [AbortCriterion]? = nil,
        inProgressTimeoutMinutes: Int? = nil, protocols: [String]? = nil
    ) {
        self.id = id
        self.description = description
        self.fileID = fileID
        self.fileName = fileName
        self.fileType = fileType
        self.signingProfile = signingProfile
        self.signature = signature
        self.things = things
        self.groups = groups
        self.targetSelection = targetSelection
        self.rollout = rollout
        self.abortCriteria = abortCriteria
        self.inProgressTimeoutMinutes = inProgressTimeoutMinutes
        self.protocols = protocols
    }

    /// The protocols the job document lists, in AWS's order.
    public var deliveryProtocols: [String] { protocols ?? ["MQTT"] }

    /// The FreeRTOS agent tracks at most 1024 blocks of 4 KiB and silently ignores larger jobs (§4.1, §5.6).
    public static let maximumFileSize = 1024 * 4096

    /// Range checks from the AWS API model; each failure names the field and the allowed range.
    public func validate() throws(OTAServiceError) {
        guard Names.isUpdateID(id) else {
            throw .invalidRequest("update id '\(id)' must be 1–56 of a-z A-Z 0-9 _ - (the job id is AFR_OTA-<id>)")
        }
        if let fileType, !(0...255).contains(fileType) { throw .invalidRequest("fileType must be 0–255") }
        if let description, !Names.isFreeText(description) {
            throw .invalidRequest("description must be at most 2,028 bytes without control characters")
        }
        if let fileName, !Names.isDevicePath(fileName) {
            throw .invalidRequest("fileName must be 1–1024 bytes without control characters")
        }
        guard !(things ?? []).isEmpty || !(groups ?? []).isEmpty else {
            throw .invalidRequest("an update needs at least one target thing or group")
        }
        if let rollout {
            if let maximum = rollout.maximumPerMinute, !(1...1000).contains(maximum) {
                throw .invalidRequest("rollout.maximumPerMinute must be 1–1000")
            }
            if let exponential = rollout.exponentialRate {
                guard (1...1000).contains(exponential.baseRatePerMinute) else {
                    throw .invalidRequest("rollout.exponentialRate.baseRatePerMinute must be 1–1000")
                }
                guard (1.1...5).contains(exponential.incrementFactor) else {
                    throw .invalidRequest("rollout.exponentialRate.incrementFactor must be 1.1–5")
                }
                let criteria = [exponential.numberOfNotifiedThings, exponential.numberOfSucceededThings].compactMap {
                    $0
                }
                guard criteria.count == 1, criteria[0] >= 1 else {
                    throw .invalidRequest(
                        "rollout.exponentialRate needs exactly one of numberOfNotifiedThings, numberOfSucceededThings (>= 1)"
                    )
                }
            }
        }
        for criterion in abortCriteria ?? [] {
            guard (0...100).contains(criterion.thresholdPercentage) else {
                throw .invalidRequest("abort thresholdPercentage must be 0–100")
            }
            guard criterion.minNumberOfExecutedThings >= 1 else {
                throw .invalidRequest("abort minNumberOfExecutedThings must be >= 1")
            }
        }
        if let protocols {
            guard (1...2).contains(protocols.count), Set(protocols).count == protocols.count,
                protocols.allSatisfy({ $0 == "MQTT" || $0 == "HTTP" })
            else {
                throw .invalidRequest("protocols must be [\"MQTT\"], [\"HTTP\"] or [\"MQTT\",\"HTTP\"]")
            }
        }
        if let minutes = inProgressTimeoutMinutes, !(1...10080).contains(minutes) {
            throw .invalidRequest("inProgressTimeoutMinutes must be 1–10080")
        }
    }
}
