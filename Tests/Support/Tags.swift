import Testing

extension Tag {
    /// The suite starts a real qemu-system-x86_64 (a guest, or QEMU paused with -S): it needs
    /// QEMU installed and takes seconds, not milliseconds. The unit-only run skips these by
    /// name: swift test --skip 'VirtKitIntegrationTests|RealQEMU|RealAgent'.
    @Tag public static var qemu: Tag
}
