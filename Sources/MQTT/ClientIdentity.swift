// Who is on the other end of a connection, from the client certificate that TLS verified. The MQTT target does
// not parse X.509 fully (that is CodeSigning's job); it reads the two fields authorization needs.

public struct ClientIdentity: Sendable, Equatable {
    /// The subject's common name; for device certificates the thing name.
    public let commonName: String?
    /// The certificate's serial number, big-endian as in the DER INTEGER.
    public let serialNumber: [UInt8]
    /// The thing a registration binds this certificate to (set from the server's `ClientCertificateTrust`
    /// verdict). It outranks the CN: a certificate brought from a factory names whatever its maker chose.
    public var boundName: String?

    /// The thing this client is: the registration's name when there is one, else the certificate's CN.
    public var thingName: String? { boundName ?? commonName }

    public init(commonName: String?, serialNumber: [UInt8], boundName: String? = nil) {
        self.commonName = commonName
        self.serialNumber = serialNumber
        self.boundName = boundName
    }

    /// Reads the subject CN and serial from a DER certificate; nil when the structure is not a certificate. The
    /// certificate itself is not kept: every connection would hold its ~450 bytes for as long as it lasts, and the
    /// verdict that binds it to a thing (`ClientCertificateTrust`) is reached during the handshake.
    public init?(certificateDER der: [UInt8]) {
        var outer = DERCursor(der[...])
        guard let certificate = outer.next(tag: 0x30) else { return nil }
        var inner = DERCursor(certificate)
        guard var tbs = inner.nextCursor(tag: 0x30) else { return nil }
        _ = tbs.next(tag: 0xA0)  // version, optional
        guard let serial = tbs.next(tag: 0x02), tbs.next(tag: 0x30) != nil,  // signature algorithm
            tbs.next(tag: 0x30) != nil, tbs.next(tag: 0x30) != nil,  // issuer, validity
            let subject = tbs.next(tag: 0x30)
        else { return nil }
        self.init(commonName: Self.commonName(inName: subject), serialNumber: Array(serial))
    }

    /// The last commonName (OID 2.5.4.3) in a Name, as TLS libraries pick it.
    static func commonName(inName name: ArraySlice<UInt8>) -> String? {
        var found: String?
        var sets = DERCursor(name)
        while let set = sets.next(tag: 0x31) {
            var attributes = DERCursor(set)
            while var attribute = attributes.nextCursor(tag: 0x30) {
                guard let oid = attribute.next(tag: 0x06) else { break }
                if oid.elementsEqual([0x55, 0x04, 0x03]), let value = attribute.nextAny() {
                    found = String(decoding: value, as: UTF8.self)
                }
            }
        }
        return found
    }
}

/// Walks DER TLV elements; every read is bounds-checked and returns nil on malformed input.
struct DERCursor {
    var bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    /// The contents of the next element if its tag is `tag`; otherwise nothing is consumed.
    mutating func next(tag: UInt8) -> ArraySlice<UInt8>? {
        guard bytes.first == tag else { return nil }
        return nextAny()
    }

    mutating func nextCursor(tag: UInt8) -> DERCursor? {
        next(tag: tag).map(DERCursor.init)
    }

    /// The contents of the next element, whatever its tag.
    mutating func nextAny() -> ArraySlice<UInt8>? {
        var index = bytes.startIndex
        guard index < bytes.endIndex else { return nil }
        index += 1
        guard index < bytes.endIndex else { return nil }
        var length = Int(bytes[index])
        index += 1
        if length & 0x80 != 0 {
            let count = length & 0x7F
            guard count >= 1, count <= 4, bytes.endIndex - index >= count else { return nil }
            length = 0
            for _ in 0..<count {
                length = length << 8 | Int(bytes[index])
                index += 1
            }
        }
        guard length >= 0, bytes.endIndex - index >= length else { return nil }
        let contents = bytes[index..<index + length]
        bytes = bytes[(index + length)...]
        return contents
    }
}
