import ESP32Formats
import Foundation
import TestSupport
import Testing

@Suite struct ImageCLITests {
    @Test func buildThenInfoReportsAValidImage() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("payload.bin", (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let build = try await OTACLI.run(
            [
                "image", "build", "--project", "thermostat", "--version", "1.1.0", "--secure-version", "2",
                "--payload", "@payload.bin", "-o", "@app.bin",
            ], in: directory)
        #expect(build.status == 0, "\(build.stderr)")
        #expect(build.stdout.contains("thermostat 1.1.0 (secure_version 2)"))

        let info = try await OTACLI.run(["image", "info", "@app.bin"], in: directory)
        #expect(info.status == 0)
        #expect(info.stdout.contains("Checksum: ") && info.stdout.contains("(valid)"))
        #expect(info.stdout.contains("Verdict: valid"))

        let json = try await OTACLI.run(["image", "info", "@app.bin", "--json"], in: directory)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["valid"] as? Bool == true)
        let descriptor = try #require(object["descriptor"] as? [String: Any])
        #expect(descriptor["version"] as? String == "1.1.0" && descriptor["secureVersion"] as? Int == 2)

        // The image is a real ESP-IDF app: esptool agrees.
        let esptool = try await ExternalTools.check(
            "esptool", ["--chip", "esp32", "image-info", directory.path("app.bin")])
        #expect(esptool.stdout.contains("(valid)") && !esptool.stdout.contains("(invalid"))
    }

    @Test func corruptImageExitsNonZeroWithTheReason() async throws {
        let directory = try TemporaryDirectory()
        var image = try AppImageBuilder.application(
            descriptor: AppDescriptor(version: "1.0.0", projectName: "x"), payload: Array(repeating: 9, count: 800))
        image[0x100] ^= 0x40
        try directory.write("bad.bin", image)
        let info = try await OTACLI.run(["image", "info", "@bad.bin"], in: directory)
        #expect(info.status == 1)
        #expect(info.stdout.contains("(invalid: computed") && info.stdout.contains("Verdict: INVALID"))
        let json = try await OTACLI.run(["image", "info", "@bad.bin", "--json"], in: directory)
        #expect(json.status == 1 && json.stdout.contains("\"valid\" : false"))
    }

    @Test func nonImageAndMissingFileAreClearErrors() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("notes.txt", text: "hello")
        let notImage = try await OTACLI.run(["image", "info", "@notes.txt"], in: directory)
        #expect(notImage.status == 1 && notImage.stdout.contains("not an ESP app image"))
        let missing = try await OTACLI.run(["image", "info", "@nope.bin"], in: directory)
        #expect(missing.status != 0 && missing.stderr.contains("cannot read"))
    }

    @Test func buildRefusesBadArguments() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("p.bin", [1, 2, 3])
        let badVersion = try await OTACLI.run(
            ["image", "build", "--project", "x", "--version", "1.2", "--payload", "@p.bin", "-o", "@a.bin"],
            in: directory)
        #expect(badVersion.status != 0 && badVersion.stderr.contains("X.Y.Z"))
        let longName = try await OTACLI.run(
            [
                "image", "build", "--project", String(repeating: "n", count: 40), "--version", "1.2.3", "--payload",
                "@p.bin",
                "-o", "@a.bin",
            ], in: directory)
        #expect(longName.status != 0 && longName.stderr.contains("project name is longer than 31 bytes"))
        #expect(!FileManager.default.fileExists(atPath: directory.path("a.bin")), "a refused build writes nothing")
    }
}

@Suite struct PartitionsCLITests {
    @Test func buildWritesTheGeneratorsBinaryAndShowReadsItBack() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("table.csv", text: PartitionTable.twoOTACSV)
        let build = try await OTACLI.run(["partitions", "build", "@table.csv", "-o", "@table.bin"], in: directory)
        #expect(build.status == 0, "\(build.stderr)")
        #expect(build.stdout.contains("MD5: bf25822c0fa6d8641bd930251e06b4c4"))
        #expect(try directory.read("table.bin") == PartitionTable.twoOTA.binary())

        let csv = try await OTACLI.run(["partitions", "show", "@table.bin", "--csv"], in: directory)
        #expect(try PartitionTable(csv: csv.stdout) == .twoOTA)
        let json = try await OTACLI.run(["partitions", "show", "@table.bin", "--json"], in: directory)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect((object["partitions"] as? [Any])?.count == 6)
    }

    @Test func csvErrorsNameTheLineAndWriteNothing() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("bad.csv", text: "nvs, data, nvs, , 16K\nfw, app, factory, 0x18000, 1M\n")
        let build = try await OTACLI.run(["partitions", "build", "@bad.csv", "-o", "@bad.bin"], in: directory)
        #expect(build.status != 0)
        #expect(build.stderr.contains("partition 'fw' (line 2) is invalid: offset 0x18000 is not aligned to 0x10000"))
        #expect(!FileManager.default.fileExists(atPath: directory.path("bad.bin")))
        try directory.write(
            "flipped.bin",
            try PartitionTable.twoOTA.binary().enumerated().map { $0.offset == 50 ? $0.element ^ 1 : $0.element })
        let show = try await OTACLI.run(["partitions", "show", "@flipped.bin"], in: directory)
        #expect(show.status != 0 && show.stderr.contains("MD5 entry does not match"))
    }

    @Test func flashSizeIsChecked() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("table.csv", text: PartitionTable.twoOTACSV)
        let build = try await OTACLI.run(
            ["partitions", "build", "@table.csv", "-o", "@t.bin", "--flash-size", "2MB"], in: directory)
        #expect(build.status != 0 && build.stderr.contains("past the end of the 2 MB flash"))
    }
}
