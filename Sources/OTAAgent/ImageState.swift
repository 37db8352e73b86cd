// The image states the agent reports to the platform (PAL), as the FreeRTOS OTA agent names them
// (docs/specs/aws-ota-wire.md §6.3). Standard library only: this file compiles in Embedded Swift.
import OTAWire

/// What the agent tells the platform about the image it just received or is running.
public enum OTAImageState: UInt8, Sendable, Equatable {
    /// Not yet known: the state before any OTA decision.
    case unknown = 0
    /// A new image was activated and is running its self-test.
    case testing = 1
    /// The self-test passed: the image becomes the one that boots; older images can no longer be booted.
    case accepted = 2
    /// The image was refused (bad signature, wrong version, failed self-test): the previous image boots.
    case rejected = 3
    /// The download was aborted (job canceled or failed before activation).
    case aborted = 4
}

/// The topics this agent uses, derived from the thing name it was provisioned with.
public func agentTopics(thingName: String) -> ThingTopics {
    ThingTopics(thingName: thingName)
}
