import OTAWire

// OTA updates, the jobs they create and the jobs' executions (aws-ota-wire.md §3.5, §9).

public enum TargetSelection: String, Sendable, Codable {
    case snapshot = "SNAPSHOT"
    case continuous = "CONTINUOUS"
}

/// A target of an update: one thing or a group. Encoded as `{"type":"thing","name":"…"}`.
public enum UpdateTarget: Sendable, Equatable, Codable, Hashable {
    case thing(String)
    case group(String)

    private enum CodingKeys: String, CodingKey { case type, name }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let name = try container.decode(String.self, forKey: .name)
        switch try container.decode(String.self, forKey: .type) {
        case "thing": self = .thing(name)
        case "group": self = .group(name)
        case let other:
            throw DecodingError.dataCorruptedError(
                forKey: .type, in: container, debugDescription: "target type '\(other)' is neither thing nor group")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .thing(let name):
            try container.encode("thing", forKey: .type)
            try container.encode(name, forKey: .name)
        case .group(let name):
            try container.encode("group", forKey: .type)
            try container.encode(name, forKey: .name)
        }
    }
}

public struct ExponentialRate: Sendable, Equatable, Codable {
    public var baseRatePerMinute: Int
    public var incrementFactor: Double
    public var numberOfNotifiedThings: Int?
    public var numberOfSucceededThings: Int?

    public init(
        baseRatePerMinute: Int, incrementFactor: Double, numberOfNotifiedThings: Int? = nil,
        numberOfSucceededThings: Int? = nil
    ) {
        self.baseRatePerMinute = baseRatePerMinute
        self.incrementFactor = incrementFactor
        self.numberOfNotifiedThings = numberOfNotifiedThings
        self.numberOfSucceededThings = numberOfSucceededThings
    }
}

public struct RolloutConfig: Sendable, Equatable, Codable {
    public var maximumPerMinute: Int?
    public var exponentialRate: ExponentialRate?

    public init(maximumPerMinute: Int? = nil, exponentialRate: ExponentialRate? = nil) {
        self.maximumPerMinute = maximumPerMinute
        self.exponentialRate = exponentialRate
    }
}

public enum AbortFailureType: String, Sendable, Codable {
    case failed = "FAILED"
    case rejected = "REJECTED"
    case timedOut = "TIMED_OUT"
    case all = "ALL"
}

public struct AbortCriterion: Sendable, Equatable, Codable {
    public var failureType: AbortFailureType
    public var thresholdPercentage: Double
    public var minNumberOfExecutedThings: Int

    public init(failureType: AbortFailureType, thresholdPercentage: Double, minNumberOfExecutedThings: Int) {
        self.failureType = failureType
        self.thresholdPercentage = thresholdPercentage
        self.minNumberOfExecutedThings = minNumberOfExecutedThings
    }
}

public enum JobStatus: String, Sendable, Codable {
    case inProgress = "IN_PROGRESS"
    case completed = "COMPLETED"
    case canceled = "CANCELED"
}

/// An IoT job `AFR_OTA-<update id>` with everything the rollout needs; created by an OTA update.
public struct Job: Sendable, Equatable, Codable {
    public var id: String
    public var updateID: String
    public var description: String
    /// The compact `afr_ota` document.
    public var document: String
    public var streamID: String
    public var fileID: String
    public var targets: [UpdateTarget]
    public var selection: TargetSelection
    public var rollout: RolloutConfig
    public var abortCriteria: [AbortCriterion]
    public var inProgressTimeoutMinutes: Int?
    public var status: JobStatus
    /// Why the job was canceled ("user", "abort: FAILED 50% of 4").
    public var reason: String?
    public var createdAt: Int64
    public var completedAt: Int64?

    public init(
        id: String, updateID: String, description: String, document: String, streamID: String, fileID: String,
        targets: [UpdateTarget], selection: TargetSelection, rollout: RolloutConfig, abortCriteria: [AbortCriterion],
        inProgressTimeoutMinutes: Int?, status: JobStatus = .inProgress, reason: String? = nil, createdAt: Int64,
        completedAt: Int64? = nil
    ) {
        self.id = id
        self.updateID = updateID
        self.description = description
        self.document = document
        self.streamID = streamID
        self.fileID = fileID
        self.targets = targets
        self.selection = selection
        self.rollout = rollout
        self.abortCriteria = abortCriteria
        self.inProgressTimeoutMinutes = inProgressTimeoutMinutes
        self.status = status
        self.reason = reason
        self.createdAt = createdAt
        self.completedAt = completedAt
    }
}

/// One thing's run of a job. `sequence` orders executions globally (queue order for `$next`).
public struct JobExecution: Sendable, Equatable, Codable {
    public var jobID: String
    public var thingName: String
    public var executionNumber: Int64
    public var status: JobExecutionStatus
    /// Compact JSON object text, stored verbatim.
    public var statusDetails: String?
    public var queuedAt: Int64
    public var startedAt: Int64?
    public var lastUpdatedAt: Int64
    public var versionNumber: Int64
    /// When an IN_PROGRESS execution times out (in-progress timeout or a device's step timeout).
    public var timeoutAt: Int64?
    public var sequence: Int64

    public init(
        jobID: String, thingName: String, executionNumber: Int64, status: JobExecutionStatus, statusDetails: String?,
        queuedAt: Int64, startedAt: Int64?, lastUpdatedAt: Int64, versionNumber: Int64, timeoutAt: Int64?,
        sequence: Int64
    ) {
        self.jobID = jobID
        self.thingName = thingName
        self.executionNumber = executionNumber
        self.status = status
        self.statusDetails = statusDetails
        self.queuedAt = queuedAt
        self.startedAt = startedAt
        self.lastUpdatedAt = lastUpdatedAt
        self.versionNumber = versionNumber
        self.timeoutAt = timeoutAt
        self.sequence = sequence
    }
}

extension JobStatus {
    public var isActive: Bool { self == .inProgress }
}

/// A stream: the files a job's devices download block by block. Version starts at 1.
public struct StreamRecord: Sendable, Equatable, Codable {
    public var id: String
    public var version: Int
    /// Stream file id (0–255) → stored file id.
    public var files: [StreamFile]
    public var createdAt: Int64

    public init(id: String, version: Int = 1, files: [StreamFile], createdAt: Int64) {
        self.id = id
        self.version = version
        self.files = files
        self.createdAt = createdAt
    }
}

public struct StreamFile: Sendable, Equatable, Codable {
    public var fileID: Int
    public var storedFileID: String
    public var size: Int64

    public init(fileID: Int, storedFileID: String, size: Int64) {
        self.fileID = fileID
        self.storedFileID = storedFileID
        self.size = size
    }
}

/// An OTA update as the user created it: the file, its signature and the job it produced.
public struct OTAUpdate: Sendable, Equatable, Codable {
    public var id: String
    public var fileID: String
    public var fileType: Int
    public var fileName: String
    public var signingProfile: String
    /// base64 DER, verified against the profile's certificate before the update was accepted.
    public var signature: String
    public var jobID: String
    public var createdAt: Int64

    public init(
        id: String, fileID: String, fileType: Int, fileName: String, signingProfile: String, signature: String,
        jobID: String, createdAt: Int64
    ) {
        self.id = id
        self.fileID = fileID
        self.fileType = fileType
        self.fileName = fileName
        self.signingProfile = signingProfile
        self.signature = signature
        self.jobID = jobID
        self.createdAt = createdAt
    }
}
