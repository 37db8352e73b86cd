/// A device as the simulate and demo commands report it (`--json`): what runs, where it is in an update, and
/// every app slot (the running one, the others erased or holding an image with its version and state).
public struct DeviceReport: Codable, Equatable, Sendable {
    public let thing: String
    public let runningVersion: String
    public let runningSlot: String
    public let phase: String
    public let boots: Int
    public let lastFailure: String?
    public let slots: [SlotReport]

    public init(thing: String, status: DeviceStatus, failure: String? = nil) {
        self.thing = thing
        runningVersion = status.runningVersion
        runningSlot = status.runningPartition
        phase = status.phase.rawValue
        boots = status.boots
        lastFailure = status.lastFailure ?? failure
        slots = status.slots
    }

    /// One line for people: `sim-001  1.1.0  succeeded  3 boots  [factory erased, ota_0 1.1.0 valid (running), …]`.
    public var line: String {
        "\(thing)  \(runningVersion)  \(phase)  \(boots) boots  [\(slots.map(\.summary).joined(separator: ", "))]"
            + (lastFailure.map { "  \($0)" } ?? "")
    }
}
