// A simulated ESP32: NOR flash with power-cut and torn-write injection, eFuses, the second-stage
// bootloader's slot selection and rollback, and a device that runs OTAAgent. Arrives with the device issue.

/// Geometry of the simulated flash chip (esp32-formats.md §6).
public enum SimulatedFlashGeometry {
    /// Erase unit of SPI NOR flash on the ESP32.
    public static let sectorSize = 4096
    /// Default chip size, enough for the two-OTA partition table.
    public static let defaultChipSize = 4 * 1024 * 1024
}
