// ESP-IDF's partitions_two_ota.csv (esp32-formats.md §2.2): the layout SwiftOTA's simulated devices use.

extension PartitionTable {
    /// components/partition_table/partitions_two_ota.csv, unchanged from v4.4 to master.
    public static let twoOTACSV = """
        # Name,   Type, SubType, Offset,   Size, Flags
        nvs,      data, nvs,     ,        0x4000,
        otadata,  data, ota,     ,        0x2000,
        phy_init, data, phy,     ,        0x1000,
        factory,  app,  factory, ,        1M,
        ota_0,    app,  ota_0,   ,        1M,
        ota_1,    app,  ota_1,   ,        1M,

        """

    /// The resolved two-OTA table; its binary's MD5 entry is bf25822c0fa6d8641bd930251e06b4c4.
    public static let twoOTA = PartitionTable(partitions: [
        Partition(name: "nvs", type: .data, subtype: PartitionDataSubtype.nvs, offset: 0x9000, size: 0x4000),
        Partition(name: "otadata", type: .data, subtype: PartitionDataSubtype.ota, offset: 0xD000, size: 0x2000),
        Partition(name: "phy_init", type: .data, subtype: PartitionDataSubtype.phy, offset: 0xF000, size: 0x1000),
        Partition(name: "factory", type: .app, subtype: PartitionAppSubtype.factory, offset: 0x10000, size: 0x100000),
        Partition(name: "ota_0", type: .app, subtype: 0x10, offset: 0x110000, size: 0x100000),
        Partition(name: "ota_1", type: .app, subtype: 0x11, offset: 0x210000, size: 0x100000),
    ])
}
