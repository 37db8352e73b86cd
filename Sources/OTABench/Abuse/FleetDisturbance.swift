import OTADemo

/// Load that runs beside a fleet bench's update (`ota bench abuse`'s attacks): prepared with the fleet, started once
/// the fleet is connected and before the update, stopped when every device is done.
public protocol FleetDisturbance: Sendable {
    /// How long it runs before the update starts, so that the update meets it at full strength.
    var buildUp: Duration { get }
    /// Registers what it needs in the prepared service (things and their certificates) before `ota serve` starts.
    func prepare(_ world: DemoWorld) async throws
    /// Starts against the running service.
    func start(mqttPort: Int, apiPort: Int) async throws
    /// Stops, and says what it did: a line per kind of load.
    func stop() async -> [String]
}
