import ESP32Simulator
import Foundation
import OTAAgent
import TestSupport
import Testing

@Suite struct DeviceSettingsTests {
    @Test func theDataProtocolIsStoredWithTheDeviceAndOlderDirectoriesPreferMQTT() throws {
        // A device.json written before the setting existed.
        let older = try JSONDecoder().decode(
            DeviceDirectory.Manifest.self, from: Data(#"{"thing":"sim-1","flashSize":4194304}"#.utf8))
        #expect(older.preferredDataProtocol == .mqtt)

        let directory = try TemporaryDirectory("device-settings")
        let device = DeviceDirectory(path: directory.path("sim-1"))
        let chip = try Fixtures.chip()
        try device.create(
            chip: chip,
            manifest: DeviceDirectory.Manifest(
                thing: "sim-1", flashSize: chip.flash.size, verificationKey: Fixtures.rawKey, dataProtocol: .http),
            credentials: DeviceCredentials(thing: "sim-1", certificatePEM: "c", privateKeyPEM: "k", caPEM: "ca"))
        var manifest = try device.load().manifest
        #expect(manifest.preferredDataProtocol == .http)
        manifest.dataProtocol = OTADataProtocol.mqtt.settingName
        try device.save(manifest)
        #expect(try device.load().manifest.preferredDataProtocol == .mqtt)
    }
}
