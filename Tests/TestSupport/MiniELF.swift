/// Writes a minimal ELF32 little-endian executable (no program headers) with PROGBITS sections — enough for
/// `esptool elf2image`, which reads section headers and `.shstrtab` (esp32-formats.md §7).
public enum MiniELF {
    public struct Section {
        public let name: String
        public let address: UInt32
        public let data: [UInt8]
        public let executable: Bool
        public init(name: String, address: UInt32, data: [UInt8], executable: Bool) {
            self.name = name
            self.address = address
            self.data = data
            self.executable = executable
        }
    }

    /// Xtensa, the ESP32's architecture.
    public static let machineXtensa: UInt16 = 0x5E

    public static func make(sections: [Section], entry: UInt32, machine: UInt16 = machineXtensa) -> [UInt8] {
        var names: [UInt8] = [0]
        var nameOffsets: [UInt32] = []
        for section in sections + [Section(name: ".shstrtab", address: 0, data: [], executable: false)] {
            nameOffsets.append(UInt32(names.count))
            names += Array(section.name.utf8) + [0]
        }
        let headerSize = 52
        var body: [UInt8] = []
        var dataOffsets: [UInt32] = []
        for section in sections {
            dataOffsets.append(UInt32(headerSize + body.count))
            body += section.data
        }
        let namesOffset = UInt32(headerSize + body.count)
        body += names
        while body.count % 4 != 0 { body.append(0) }
        let sectionHeadersOffset = UInt32(headerSize + body.count)

        var out: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, 1, 1, 1, 0] + Array(repeating: 0, count: 8)
        func u16(_ value: UInt16) { out += [UInt8(value & 0xFF), UInt8(value >> 8)] }
        func u32(_ value: UInt32) {
            for shift in [0, 8, 16, 24] { out.append(UInt8((value >> UInt32(shift)) & 0xFF)) }
        }
        u16(2)  // ET_EXEC
        u16(machine)
        u32(1)
        u32(entry)
        u32(0)  // no program headers
        u32(sectionHeadersOffset)
        u32(0)
        u16(UInt16(headerSize))
        u16(32)
        u16(0)
        u16(40)
        u16(UInt16(sections.count + 2))
        u16(UInt16(sections.count + 1))  // .shstrtab is last
        out += body
        out += Array(repeating: 0, count: 40)  // the null section
        for (index, section) in sections.enumerated() {
            u32(nameOffsets[index])
            u32(1)  // SHT_PROGBITS
            u32(section.executable ? 6 : 2)  // SHF_ALLOC (| SHF_EXECINSTR)
            u32(section.address)
            u32(dataOffsets[index])
            u32(UInt32(section.data.count))
            u32(0)
            u32(0)
            u32(4)
            u32(0)
        }
        u32(nameOffsets[sections.count])
        u32(3)  // SHT_STRTAB
        u32(0)
        u32(0)
        u32(namesOffset)
        u32(UInt32(names.count))
        u32(0)
        u32(0)
        u32(1)
        u32(0)
        return out
    }
}
