import Foundation
import TestSupport
import Testing

// docs/monitoring.md's Prometheus configuration, as written: its alert rules go through `promtool test rules` with
// series that must fire them and series that must not, and a real Prometheus scrapes a running `ota serve` with its
// scrape configuration (paths and target replaced by the test service's) and reports the connected-device count
// the service itself reports.
@Suite(.serialized) struct MonitoringDocTests {
    static func documented(_ marker: String) throws -> String {
        let blocks = try DocumentedCommands.blocks(
            in: "docs/monitoring.md", marker: "monitoring-test: " + marker, language: "yaml")
        return try #require(blocks.first, "docs/monitoring.md marks its \(marker) block")
    }

    @Test func theAlertRulesFireOnAFailingRolloutAndOnDevicesDroppingOffAndNotOtherwise() async throws {
        let directory = try TemporaryDirectory("monitoring-rules")
        try Self.documented("alert-rules").write(
            toFile: directory.path("swiftota-alerts.yml"), atomically: true, encoding: .utf8)
        try await ExternalTools.check("promtool", ["check", "rules", directory.path("swiftota-alerts.yml")])
        try Self.ruleTests.write(toFile: directory.path("tests.yml"), atomically: true, encoding: .utf8)
        let result = try await ExternalTools.run("promtool", ["test", "rules", directory.path("tests.yml")])
        #expect(result.status == 0, "promtool test rules:\n\(result.stdout)\n\(result.stderr)")
    }

    /// Two instances report update u1 (10 of 100 failed: an alert, counted once though both report it) and u2 (1 of
    /// 101: none); devices fall from 100 to 50 at 30 minutes (an alert once it lasted 5 minutes, none before).
    static let ruleTests = """
        rule_files: [swiftota-alerts.yml]
        evaluation_interval: 1m
        tests:
          - interval: 1m
            input_series:
              - series: 'swiftota_update_executions{instance="a",update="u1",status="SUCCEEDED"}'
                values: '90x20'
              - series: 'swiftota_update_executions{instance="a",update="u1",status="FAILED"}'
                values: '10x20'
              - series: 'swiftota_update_executions{instance="b",update="u1",status="SUCCEEDED"}'
                values: '90x20'
              - series: 'swiftota_update_executions{instance="b",update="u1",status="FAILED"}'
                values: '10x20'
              - series: 'swiftota_update_executions{instance="a",update="u2",status="SUCCEEDED"}'
                values: '100x20'
              - series: 'swiftota_update_executions{instance="a",update="u2",status="FAILED"}'
                values: '1x20'
              - series: 'swiftota_mqtt_connected_clients{instance="a"}'
                values: '60x30 30x20'
              - series: 'swiftota_mqtt_connected_clients{instance="b"}'
                values: '40x30 20x20'
              - series: 'swiftota_scheduler_leader{instance="a"}'
                values: '1x50'
              - series: 'swiftota_scheduler_leader{instance="b"}'
                values: '0x50'
            alert_rule_test:
              - eval_time: 3m
                alertname: SwiftOTARolloutFailing
                exp_alerts: []
              - eval_time: 10m
                alertname: SwiftOTARolloutFailing
                exp_alerts:
                  - exp_labels: {severity: page, update: u1}
                    exp_annotations:
                      summary: "Update u1: more than 5% of its devices failed, timed out or rejected it"
              - eval_time: 29m
                alertname: SwiftOTADevicesDroppingOff
                exp_alerts: []
              - eval_time: 33m
                alertname: SwiftOTADevicesDroppingOff
                exp_alerts: []
              - eval_time: 40m
                alertname: SwiftOTADevicesDroppingOff
                exp_alerts:
                  - exp_labels: {severity: page}
                    exp_annotations:
                      summary: "A fifth of the devices connected in the last 30 minutes are gone"
              - eval_time: 40m
                alertname: SwiftOTANoScheduler
                exp_alerts: []
        """

    @Test func aRealPrometheusScrapesTheConnectedDeviceCountTheServiceReports() async throws {
        let service = try await ServiceProcess()
        defer { service.stop() }
        try await service.cli(["things", "create", "watched"])
        let credentials = service.directory.path("watched")
        try await service.cli(["things", "issue-certificate", "watched", "--out", credentials])
        let device = try await ScriptedDevice(
            thing: "watched", port: service.mqttPort,
            certificatePEM: try String(contentsOfFile: credentials + "/watched.pem", encoding: .utf8),
            keyPEM: try String(contentsOfFile: credentials + "/watched.key", encoding: .utf8),
            caPath: credentials + "/ca.pem")
        defer { Task { await device.close() } }

        let directory = try TemporaryDirectory("prometheus")
        let configuration = try Self.documented("scrape-config")
            .replacingOccurrences(of: "/var/lib/swiftota", with: service.dataDir)
            .replacingOccurrences(of: "ota.example.com:8443", with: "localhost:\(service.apiPort)")
            .replacingOccurrences(of: "scrape_interval: 15s", with: "scrape_interval: 1s")
        try configuration.write(toFile: directory.path("prometheus.yml"), atomically: true, encoding: .utf8)
        try Self.documented("alert-rules").write(
            toFile: directory.path("swiftota-alerts.yml"), atomically: true, encoding: .utf8)
        try await ExternalTools.check("promtool", ["check", "config", directory.path("prometheus.yml")])
        let port = try freeLoopbackPort()
        let prometheus = try BackgroundProcess(
            "prometheus",
            [
                "--config.file=" + directory.path("prometheus.yml"), "--storage.tsdb.path=" + directory.path("tsdb"),
                "--web.listen-address=127.0.0.1:\(port)",
            ])
        defer { prometheus.kill() }

        let health =
            try await JSONSerialization.jsonObject(
                with: Data(
                    try ExternalTools.check(
                        "curl",
                        [
                            "-sf", "--cacert", service.dataDir + "/pki/ca.pem",
                            "https://localhost:\(service.apiPort)/healthz",
                        ]
                    ).stdout.utf8)) as? [String: Any]
        let reported = try #require(health?["connectedDevices"] as? Int)
        #expect(reported == 1)
        var scraped: String?
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline, prometheus.isRunning {
            let up = try await Self.query("up{job=\"swiftota\"}", port: port)
            scraped = try await Self.query("swiftota_mqtt_connected_clients", port: port)
            if up == "1", scraped != nil { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        #expect(scraped == String(reported), "Prometheus' answer; its log:\n\(prometheus.text.suffix(3000))")
    }

    /// The value of an instant query's first series, as Prometheus' HTTP API returns it; nil while there is none.
    static func query(_ expression: String, port: Int) async throws -> String? {
        let answer = try await ExternalTools.run(
            "curl", ["-s", "--get", "--data-urlencode", "query=" + expression, "http://127.0.0.1:\(port)/api/v1/query"])
        guard answer.status == 0,
            let object = try? JSONSerialization.jsonObject(with: Data(answer.stdout.utf8)) as? [String: Any],
            let data = object["data"] as? [String: Any], let result = data["result"] as? [[String: Any]],
            let value = result.first?["value"] as? [Any]
        else { return nil }
        return value.last as? String
    }
}
