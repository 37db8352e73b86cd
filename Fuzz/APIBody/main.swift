// libFuzzer target: the JSON bodies of the management API (/api/v1), decoded by the routes' own APIBody.decode
// into every body type, then checked by the rules the routes and the registry apply before they touch the store:
// names, attributes, group queries, CSRs and certificates, signatures, S3 URLs, key paths inside the key store,
// and CreateUpdateRequest.validate() (scripts/fuzz). Besides never crashing: a valid update request survives a JSON
// round trip, a group query and an S3 URL read back from their own text the same, and a key path that is accepted
// lies inside the key store.
import CodeSigning
import Foundation
import NIOCore
import S3

@testable import OTAService

/// A key store with one key in it, as `ota serve` keeps DATA/signing.
let keyStore: SigningKeyStore = {
    let directory = NSTemporaryDirectory() + "swiftota-fuzz-key-store"
    try? FileManager.default.createDirectory(atPath: directory + "/team", withIntermediateDirectories: true)
    _ = FileManager.default.createFile(atPath: directory + "/team/ci.key", contents: Data())
    return SigningKeyStore(directory: directory)
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAPIBody(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = ByteBuffer(bytes: UnsafeBufferPointer(start: data, count: size))
    if let thing = try? APIBody.decode(CreateThingBody.self, json: body) {
        _ = Names.isThingName(thing.name)
        _ = try? Registry.validate(thing.attributes ?? [:])
    }
    if let attributes = try? APIBody.decode(SetAttributesBody.self, json: body) {
        _ = try? Registry.validate(attributes.attributes)
    }
    if let group = try? APIBody.decode(CreateGroupBody.self, json: body) {
        _ = Names.isThingName(group.name) && Names.isFreeText(group.description ?? "")
        if let text = group.query, Names.isFreeText(text, maximumBytes: 1024), let query = try? GroupQuery(text) {
            let written = query.terms.map { "\($0.key)=\($0.value)" }.joined(separator: " AND ")
            precondition((try? GroupQuery(written)) == query, "a group query reads back as another query")
        }
    }
    if let member = try? APIBody.decode(AddMemberBody.self, json: body) {
        _ = Names.isThingName(member.thing)
    }
    if let csr = (try? APIBody.decode(IssueCertificateBody.self, json: body))?.csr {
        _ = try? CertificateCoding.decodeCSR(Array(csr.utf8))
    }
    if let registered = try? APIBody.decode(RegisterCertificateBody.self, json: body) {
        _ = try? CertificateCoding.decodeChain(Array(registered.certificatePEM.utf8))
    }
    if let profile = try? APIBody.decode(CreateSigningProfileBody.self, json: body) {
        _ = Names.isDevicePath(profile.certificatePathOnDevice ?? "/")
        _ = profile.certificatePEM.map { try? CertificateCoding.decode(Array($0.utf8)) }
        if let reference = profile.keyPath, let path = try? keyStore.resolve(reference) {
            precondition(
                path.hasPrefix((keyStore.directory as NSString).resolvingSymlinksInPath + "/"),
                "a key path outside the key store is accepted")
        }
    }
    _ = try? APIBody.decode(CancelBody.self, json: body)
    if let file = try? APIBody.decode(ImportFileBody.self, json: body) {
        _ = FileKind(rawValue: file.kind ?? "app")
        if let location = try? S3Location(parsing: file.url) {
            precondition((try? S3Location(parsing: location.description)) == location, "S3 URL round trip")
        }
    }
    if let update = try? APIBody.decode(CreateUpdateRequest.self, json: body) {
        _ = update.signature.map { try? CodeSignature(encoded: Array($0.utf8)) }
        if (try? update.validate()) != nil {
            let json = try? JSONEncoder().encode(update)
            let again = json.flatMap { try? APIBody.decode(CreateUpdateRequest.self, json: ByteBuffer(bytes: $0)) }
            precondition(again == update, "a valid update request changes in a JSON round trip")
        }
    }
    return 0
}
