import Foundation
import TestSupport
import Testing

@Suite struct SigningCLITests {
    @Test func keysCertificateSignAndVerifyEndToEnd() async throws {
        let d = try TemporaryDirectory()
        let generate = try await OTACLI.run(
            ["keys", "generate", "-o", "@signer.key", "--raw-public-key-output", "@signer.raw"], in: d)
        #expect(generate.status == 0, "\(generate.stderr)")
        let mode =
            try FileManager.default.attributesOfItem(atPath: d.path("signer.key"))[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        #expect(try d.read("signer.raw").count == 64)
        let again = try await OTACLI.run(["keys", "generate", "-o", "@signer.key"], in: d)
        #expect(again.status != 0 && again.stderr.contains("refusing to overwrite"))

        await #expect(
            try OTACLI.run(["cert", "self-signed", "--key", "@signer.key", "-o", "@signer.pem"], in: d).status == 0)
        try d.write("fw.bin", (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 5) })
        let sign = try await OTACLI.run(
            ["sign", "@fw.bin", "--key", "@signer.key", "--cert", "@signer.pem", "--json"], in: d)
        #expect(sign.status == 0, "\(sign.stderr)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(sign.stdout.utf8)) as? [String: Any])
        let signature = try #require(result["signature"] as? String)
        try d.write("fw.sig", text: signature)
        try d.write("fw.der", Array(try #require(Data(base64Encoded: signature))))

        await #expect(
            try OTACLI.run(["verify", "@fw.bin", "--signature", "@fw.sig", "--cert", "@signer.pem"], in: d).status == 0)
        try await ExternalTools.check(
            "openssl", ["x509", "-in", d.path("signer.pem"), "-pubkey", "-noout", "-out", d.path("pub.pem")])
        let openssl = try await ExternalTools.run(
            "openssl",
            ["dgst", "-sha256", "-verify", d.path("pub.pem"), "-signature", d.path("fw.der"), d.path("fw.bin")])
        #expect(openssl.stdout.contains("Verified OK"))

        var changed = try d.read("fw.bin")
        changed[1234] ^= 0x20
        try d.write("fw.bin", changed)
        let refused = try await OTACLI.run(
            ["verify", "@fw.bin", "--signature", "@fw.sig", "--cert", "@signer.pem"], in: d)
        #expect(refused.status == 1 && refused.stdout.contains("INVALID: the signature does not verify"))
    }

    @Test func secureBootV1SigningInteroperatesWithEspsecure() async throws {
        let d = try TemporaryDirectory()
        try d.write("payload.bin", Array(repeating: 0x33, count: 2048))
        await #expect(
            try OTACLI.run(
                [
                    "image", "build", "--project", "p", "--version", "1.0.0", "--payload", "@payload.bin", "-o",
                    "@app.bin",
                ], in: d
            ).status == 0)
        await #expect(try OTACLI.run(["keys", "generate", "-o", "@k.pem", "--format", "sec1"], in: d).status == 0)
        let sign = try await OTACLI.run(
            ["sign", "@app.bin", "--key", "@k.pem", "--secure-boot-v1", "@app-signed.bin"], in: d)
        #expect(sign.status == 0, "\(sign.stderr)")
        await #expect(
            try OTACLI.run(["keys", "public", "@k.pem", "--format", "raw", "-o", "@pub.bin"], in: d).status == 0)
        let espsecure = try await ExternalTools.run(
            "espsecure",
            ["verify-signature", "--version", "1", "--keyfile", d.path("pub.bin"), d.path("app-signed.bin")])
        #expect(
            espsecure.status == 0 && espsecure.stdout.contains("Signature is valid"),
            "\(espsecure.stdout)\(espsecure.stderr)")
        await #expect(
            try OTACLI.run(["verify", "--secure-boot-v1", "@app-signed.bin", "--public-key", "@pub.bin"], in: d).status
                == 0)
        let unsigned = try await OTACLI.run(
            ["verify", "--secure-boot-v1", "@app.bin", "--public-key", "@pub.bin"], in: d)
        #expect(unsigned.status == 1 && unsigned.stdout.contains("no secure boot v1 signature block"))
        // image info gives the same verdicts when handed the key.
        let info = try await OTACLI.run(["image", "info", "@app-signed.bin", "--public-key", "@pub.bin"], in: d)
        #expect(info.status == 0 && info.stdout.contains("(valid signature)"), "\(info.stdout)")
        await #expect(try OTACLI.run(["keys", "generate", "-o", "@other.pem"], in: d).status == 0)
        let wrongKey = try await OTACLI.run(["image", "info", "@app-signed.bin", "--public-key", "@other.pem"], in: d)
        #expect(wrongKey.status == 1 && wrongKey.stdout.contains("Verdict: INVALID"))
        let noBlock = try await OTACLI.run(["image", "info", "@app.bin", "--public-key", "@pub.bin"], in: d)
        #expect(noBlock.status == 1 && noBlock.stdout.contains("Secure boot v1 block: absent"))
    }

    @Test func caIssuesChainsThatOpenSSLAccepts() async throws {
        let d = try TemporaryDirectory()
        await #expect(try OTACLI.run(["ca", "init", "--dir", "@ca"], in: d).status == 0)
        let device = try await OTACLI.run(["ca", "issue-device", "esp32-7", "--ca-dir", "@ca", "-o", "@out"], in: d)
        #expect(device.status == 0, "\(device.stderr)")
        let server = try await OTACLI.run(
            ["ca", "issue-server", "--ca-dir", "@ca", "--host", "localhost", "--host", "127.0.0.1", "-o", "@out"], in: d
        )
        #expect(server.status == 0, "\(server.stderr)")
        for (file, purpose) in [("out/esp32-7.pem", "sslclient"), ("out/server.pem", "sslserver")] {
            let verify = try await ExternalTools.run(
                "openssl", ["verify", "-CAfile", d.path("ca/ca.pem"), "-purpose", purpose, d.path(file)])
            #expect(verify.status == 0, "\(file): \(verify.stdout)\(verify.stderr)")
        }
        for key in ["ca/ca.key", "out/esp32-7.key", "out/server.key"] {
            let mode = try FileManager.default.attributesOfItem(atPath: d.path(key))[.posixPermissions] as? NSNumber
            #expect(mode?.intValue == 0o600, "\(key)")
        }
        try await ExternalTools.check(
            "openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-out", d.path("own.key")])
        try await ExternalTools.check(
            "openssl", ["req", "-new", "-key", d.path("own.key"), "-subj", "/CN=esp32-8", "-out", d.path("req.pem")])
        let signed = try await OTACLI.run(
            ["ca", "sign-csr", "@req.pem", "--ca-dir", "@ca", "--thing", "esp32-8", "-o", "@esp32-8.pem", "--json"],
            in: d)
        #expect(signed.status == 0, "\(signed.stderr)")
        await #expect(
            try ExternalTools.run("openssl", ["verify", "-CAfile", d.path("ca/ca.pem"), d.path("esp32-8.pem")]).status
                == 0)
        let badThing = try await OTACLI.run(["ca", "issue-device", "bad/name", "--ca-dir", "@ca", "-o", "@out"], in: d)
        #expect(badThing.status != 0 && badThing.stderr.contains("is not a thing name"))
    }

    @Test func unsafeAndUnsupportedKeysAreRefusedClearly() async throws {
        let d = try TemporaryDirectory()
        try d.write("fw.bin", [1, 2, 3])
        await #expect(try OTACLI.run(["keys", "generate", "-o", "@k.pem"], in: d).status == 0)
        chmod(d.path("k.pem"), 0o644)
        let open = try await OTACLI.run(["sign", "@fw.bin", "--key", "@k.pem"], in: d)
        #expect(open.status != 0 && open.stderr.contains("chmod 600"))
        await #expect(
            try OTACLI.run(["sign", "@fw.bin", "--key", "@k.pem", "--insecure-key-permissions"], in: d).status == 0)
        try await ExternalTools.check("openssl", ["genpkey", "-algorithm", "ed25519", "-out", d.path("ed.pem")])
        chmod(d.path("ed.pem"), 0o600)
        let ed = try await OTACLI.run(["sign", "@fw.bin", "--key", "@ed.pem"], in: d)
        #expect(ed.status != 0 && ed.stderr.contains("unsupported key type: Ed25519") && ed.stderr.contains("P-256"))
    }
}
