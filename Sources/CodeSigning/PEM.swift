// PEM files as openssl, espsecure and swift-certificates write them; a file may hold several blocks
// (`openssl ecparam -genkey` writes EC PARAMETERS before EC PRIVATE KEY; chains hold several certificates).
import SwiftASN1

enum PEM {
    /// Every block in `text`, in order.
    static func documents(_ text: String) throws(CodeSigningError) -> [PEMDocument] {
        do {
            let documents = try PEMDocument.parseMultiple(pemString: text)
            guard !documents.isEmpty else { throw CodeSigningError.malformedPEM("no -----BEGIN ...----- block") }
            return documents
        } catch let error as CodeSigningError {
            throw error
        } catch {
            throw .malformedPEM("the armour or its base64 is broken")
        }
    }

    static func looksLikePEM(_ bytes: [UInt8]) -> Bool {
        // Skips leading whitespace; some tools write a comment line before the block, which we do not support.
        let start = bytes.drop { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        return start.starts(with: Array("-----BEGIN".utf8))
    }

    static func encode(type: String, der: [UInt8]) -> String {
        PEMDocument(type: type, derBytes: der).pemString + "\n"
    }
}
