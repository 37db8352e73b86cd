import Foundation
import TestSupport
import Testing

@Suite struct SigningCLITests {
    @Test func keysCertificateSignAndVerifyEndToEnd() throws {
        let d = try TemporaryDirectory()
        let generate = try OTACLI.run(
            ["keys", "generate", "-o", "@signer.key", "--raw-public-key-output", "@signer.raw"], in: d)
        #expect(generate.status == 0, "\(generate.stderr)")
        let mode =
            try FileManager.default.attributesOfItem(atPath: d.path("signer.key"))[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        #expect(try d.read("signer.raw").count == 64)
        let again = try OTACLI.run(["keys", "generate", "-o", "@signer.key"], in: d)
        #expect(again.status != 0 && again.stderr.contains("refusing to overwrite"))

        #expect(
            try OTACLI.run(["cert", "self-signed", "--key", "@signer.key", "-o", "@signer.pem"], in: d).status == 0)
        try d.write("fw.bin", (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 5) })
        let sign = try OTACLI.run(
            ["sign", "@fw.bin", "--key", "@signer.key", "--cert", "@signer.pem", "--json"], in: d)
        #expect(sign.status == 0, "\(sign.stderr)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(sign.stdout.utf8)) as? [String: Any])
        let signature = try #require(result["signature"] as? String)
        try d.write("fw.sig", text: signature)
        try d.write("fw.der", Array(try #require(Data(base64Encoded: signature))))

        #expect(
            try OTACLI.run(["verify", "@fw.bin", "--signature", "@fw.sig", "--cert", "@signer.pem"], in: d).status == 0)
        try ExternalTools.check(
            "openssl", ["x509", "-in", d.path("signer.pem"), "-pubkey", "-noout", "-out", d.path("pub.pem")])
        let openssl = try ExternalTools.run(
            "openssl",
            ["dgst", "-sha256", "-verify", d.path("pub.pem"), "-signature", d.path("fw.der"), d.path("fw.bin")])
        #expect(openssl.stdout.contains("Verified OK"))

        var changed = try d.read("fw.bin")
        changed[1234] ^= 0x20
        try d.write("fw.bin", changed)
        let refused = try OTACLI.run(["verify", "@fw.bin", "--signature", "@fw.sig", "--cert", "@signer.pem"], in: d)
        #expect(refused.status == 1 && refused.stdout.contains("INVALID: the signature does not verify"))
    }

    @Test func secureBootV1SigningInteroperatesWithEspsecure() throws {
        let d = try TemporaryDirectory()
        try d.write("payload.bin", Array(repeating: 0x33, count: 2048))
        #expect(
            try OTACLI.run(
                [
                    "image", "build", "--project", "p", "--version", "1.0.0", "--payload", "@payload.bin", "-o",
                    "@app.bin",
                ], in: d
            ).status == 0)
        #expect(try OTACLI.run(["keys", "generate", "-o", "@k.pem", "--format", "sec1"], in: d).status == 0)
        let sign = try OTACLI.run(
            ["sign", "@app.bin", "--key", "@k.pem", "--secure-boot-v1", "@app-signed.bin"], in: d)
        #expect(sign.status == 0, "\(sign.stderr)")
        #expect(try OTACLI.run(["keys", "public", "@k.pem", "--format", "raw", "-o", "@pub.bin"], in: d).status == 0)
        let espsecure = try ExternalTools.run(
            "espsecure",
            ["verify-signature", "--version", "1", "--keyfile", d.path("pub.bin"), d.path("app-signed.bin")])
        #expect(
            espsecure.status == 0 && espsecure.stdout.contains("Signature is valid"),
            "\(espsecure.stdout)\(espsecure.stderr)")
        #expect(
            try OTACLI.run(["verify", "--secure-boot-v1", "@app-signed.bin", "--public-key", "@pub.bin"], in: d).status
                == 0)
        let unsigned = try OTACLI.run(["verify", "--secure-boot-v1", "@app.bin", "--public-key", "@pub.bin"], in: d)
        #expect(unsigned.status == 1 && unsigned.stdout.contains("no secure boot v1 signature block"))
        // image info gives the same verdicts when handed the key.
        let info = try OTACLI.run(["image", "info", "@app-signed.bin", "--public-key", "@pub.bin"], in: d)
        #expect(info.status == 0 && info.stdout.contains("(valid signature)"), "\(info.stdout)")
        #expect(try OTACLI.run(["keys", "generate", "-o", "@other.pem"], in: d).status == 0)
        let wrongKey = try OTACLI.run(["image", "info", "@app-signed.bin", "--public-key", "@other.pem"], in: d)
        #expect(wrongKey.status == 1 && wrongKey.stdout.contains("Verdict: INVALID"))
        let noBlock = try OTACLI.run(["image", "info", "@app.bin", "--public-key", "@pub.bin"], in: d)
        #expect(noBlock.status == 1 && noBlock.stdout.contains("Secure boot v1 block: absent"))
    }

    @Test func caIssuesChainsThatOpenSSLAccepts() throws {
        let d = try TemporaryDirectory()
        #expect(try OTACLI.run(["ca", "init", "--dir", "@ca"], in: d).status == 0)
        let device = try OTACLI.run(["ca", "issue-device", "esp32-7", "--ca-dir", "@ca", "-o", "@out"], in: d)
        #expect(device.status == 0, "\(device.stderr)")
        let server = try OTACLI.run(
            ["ca", "issue-server", "--ca-dir", "@ca", "--host", "localhost", "--host", "127.0.0.1", "-o", "@out"], in: d
        )
        #expect(server.status == 0, "\(server.stderr)")
        for (file, purpose) in [("out/esp32-7.pem", "sslclient"), ("out/server.pem", "sslserver")] {
            let verify = try ExternalTools.run(
                "openssl", ["verify", "-CAfile", d.path("ca/ca.pem"), "-purpose", purpose, d.path(file)])
            #expect(verify.status == 0, "\(file): \(verify.stdout)\(verify.stderr)")
        }
        for key in ["ca/ca.key", "out/esp32-7.key", "out/server.key"] {
            let mode = try FileManager.default.attributesOfItem(atPath: d.path(key))[.posixPermissions] as? NSNumber
            #expect(mode?.intValue == 0o600, "\(key)")
        }
        try ExternalTools.check("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-out", d.path("own.key")])
        try ExternalTools.check(
            "openssl", ["req", "-new", "-key", d.path("own.key"), "-subj", "/CN=esp32-8", "-out", d.path("req.pem")])
        let signed = try OTACLI.run(
            ["ca", "sign-csr", "@req.pem", "--ca-dir", "@ca", "--thing", "esp32-8", "-o", "@esp32-8.pem", "--json"],
            in: d)
        #expect(signed.status == 0, "\(signed.stderr)")
        #expect(
            try ExternalTools.run("openssl", ["verify", "-CAfile", d.path("ca/ca.pem"), d.path("esp32-8.pem")]).status
                == 0)
        let badThing = try OTACLI.run(["ca", "issue-device", "bad/name", "--ca-dir", "@ca", "-o", "@out"], in: d)
        #expect(badThing.status != 0 && badThing.stderr.contains("is not a thing name"))
    }

    @Test func unsafeAndUnsupportedKeysAreRefusedClearly() throws {
        let d = try TemporaryDirectory()
        try d.write("fw.bin", [1, 2, 3])
        #expect(try OTACLI.run(["keys", "generate", "-o", "@k.pem"], in: d).status == 0)
        chmod(d.path("k.pem"), 0o644)
        let open = try OTACLI.run(["sign", "@fw.bin", "--key", "@k.pem"], in: d)
        #expect(open.status != 0 && open.stderr.contains("chmod 600"))
        #expect(
            try OTACLI.run(["sign", "@fw.bin", "--key", "@k.pem", "--insecure-key-permissions"], in: d).status == 0)
        try ExternalTools.check("openssl", ["genpkey", "-algorithm", "ed25519", "-out", d.path("ed.pem")])
        chmod(d.path("ed.pem"), 0o600)
        let ed = try OTACLI.run(["sign", "@fw.bin", "--key", "@ed.pem"], in: d)
        #expect(ed.status != 0 && ed.stderr.contains("unsupported key type: Ed25519") && ed.stderr.contains("P-256"))
    }
}
