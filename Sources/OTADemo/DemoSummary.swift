import ESP32Simulator
import Foundation

/// One step of the demo: the outcome it expects, what it observed, and how long it took.
public struct DemoStep: Encodable {
    let name: String
    let expected: String
    let observed: String
    let ok: Bool
    let seconds: Double
}

/// What `ota demo` prints: its steps, whether all went as expected, and the fleet at the end.
public struct DemoSummary: Encodable {
    let devices: Int
    let steps: [DemoStep]
    public let ok: Bool
    /// Each device at the end: running version and slot, every app slot (erased, or its image and state).
    let fleet: [DeviceReport]

    init(devices: Int, steps: [DemoStep], fleet: [DeviceReport]) {
        self.devices = devices
        self.steps = steps
        ok = steps.allSatisfy(\.ok)
        self.fleet = fleet
    }

    /// The steps as a table with a verdict.
    public var table: String {
        var lines = ["", "Summary (\(devices) devices)"]
        for step in steps {
            lines.append(
                "  \(step.ok ? "✔" : "✘") \(step.name.padding(toLength: 34, withPad: " ", startingAt: 0)) "
                    + "\(step.observed)  (\(String(format: "%.1f", step.seconds)) s)")
            if !step.ok { lines.append("      expected: \(step.expected)") }
        }
        lines.append(ok ? "All outcomes as expected." : "Some outcomes were not as expected.")
        return lines.joined(separator: "\n")
    }
}
