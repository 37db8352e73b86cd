import Foundation
import TestSupport
import Testing

// The console in a real browser (Tests/console/console_browser.py: headless Chromium from Debian, Selenium from the
// tools venv): an operator signs in, creates an update with "sign it for me" for two simulated ESP32s running as
// `ota simulate fleet`, watches it reach SUCCEEDED without a reload, cancels another after confirming, and a viewer
// is refused the create form. Screenshots of each page land in .build/console-screenshots/.
@Suite(.serialized) struct ConsoleBrowserTests {
    static let password = "console test passphrase"

    @Test func anOperatorRollsOutAndCancelsAndAViewerCannotCreate() async throws {
        let bench = try await SimulateCLITests.Workbench()
        defer { bench.service.stop() }
        let service = bench.service
        for thing in ["sim-001", "sim-002", "sim-003"] {
            try await service.cli(["things", "create", thing])
            try await service.cli(["things", "issue-certificate", thing, "--out", bench.work.path("creds")])
        }
        let file = try await #require(
            try service.json(["files", "upload", bench.work.path("update.bin")]) as? [String: Any])
        for (name, role) in [("olga", "operator"), ("vic", "viewer")] {
            let created = try await ExternalTools.run(
                try OTACLI.executable,
                [
                    "users", "create", name, "--role", role, "--password-stdin", "--data-dir", service.dataDir,
                    "--server", "https://localhost:\(service.apiPort)",
                ], stdin: Data((Self.password + "\n").utf8))
            #expect(created.status == 0, "\(created.stderr)")
        }
        // Two devices run; sim-003 stays offline, so its update waits QUEUED until it is cancelled.
        let fleet = try BackgroundProcess(
            try OTACLI.executable,
            ["simulate", "fleet", "--dir", bench.work.path("fleet"), "--server", bench.mqtt, "--count", "2"]
                + bench.firstRun + ["--seconds", "300"])
        defer { fleet.kill() }

        let screenshots = ExternalTools.packageRoot.appendingPathComponent(".build/console-screenshots").path
        try? FileManager.default.removeItem(atPath: screenshots)
        try FileManager.default.createDirectory(atPath: screenshots, withIntermediateDirectories: true)
        let configuration: [String: String] = [
            "base": "https://localhost:\(service.apiPort)", "chromium": try ExternalTools.locate("chromium"),
            "chromedriver": try ExternalTools.locate("chromedriver"), "screenshots": screenshots,
            "operator": "olga", "viewer": "vic", "password": Self.password,
            "file": try #require(file["id"] as? String), "things": "sim-001 sim-002", "waiting": "sim-003",
        ]
        let script = ExternalTools.packageRoot.appendingPathComponent("Tests/console/console_browser.py").path
        let result = try await ExternalTools.run(
            "python",
            [script, String(decoding: try JSONSerialization.data(withJSONObject: configuration), as: UTF8.self)])
        #expect(
            result.status == 0,
            "console_browser.py:\n\(result.stdout)\n\(result.stderr)\nfleet:\n\(fleet.text.suffix(3000))")
        #expect(result.stdout.contains("console browser test passed"))

        let executions = try await #require(
            try service.json(["jobs", "executions", "AFR_OTA-console-u1"]) as? [[String: Any]])
        #expect(Set(executions.compactMap { $0["status"] as? String }) == ["SUCCEEDED"] && executions.count == 2)
        let cancelled = try await #require(try service.json(["jobs", "show", "AFR_OTA-console-u2"]) as? [String: Any])
        #expect((cancelled["job"] as? [String: Any])?["status"] as? String == "CANCELED")
        for page in ["login", "create-update", "rollout-succeeded", "cancel-confirm", "fleet", "viewer-refused"] {
            #expect(FileManager.default.fileExists(atPath: screenshots + "/\(page).png"), "\(page).png")
        }
        let trail = try await service.cli(["audit"])
        #expect(trail.contains("olga (operator)") && trail.contains("POST /console/updates"))
        #expect(trail.contains("POST /console/updates/{id}/cancel") && trail.contains("POST /console/login"))
    }
}
