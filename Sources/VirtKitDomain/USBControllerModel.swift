/// libvirt's USB controller models and the QEMU device each becomes
/// (`virDomainControllerModelUSB` and `qemuControllerModelUSB`).
///
/// The ICH9 set is one USB2 controller in four PCI functions of one slot: the EHCI at function 7
/// and three UHCI companions at 0, 1 and 2, each companion naming the EHCI's bus as its master
/// (`<master startport>`). virt-install writes this set for every i440fx guest.
public enum USBControllerModel: String, Sendable, CaseIterable {
    case piix3UHCI = "piix3-uhci", piix4UHCI = "piix4-uhci", ehci = "ehci"
    case ich9EHCI1 = "ich9-ehci1", ich9UHCI1 = "ich9-uhci1", ich9UHCI2 = "ich9-uhci2", ich9UHCI3 = "ich9-uhci3"
    case vt82c686bUHCI = "vt82c686b-uhci", pciOHCI = "pci-ohci", necXHCI = "nec-xhci"
    case qusb1, qusb2, qemuXHCI = "qemu-xhci", none

    /// The QEMU device.
    public var qemuDriver: String {
        switch self {
        case .piix3UHCI: "piix3-usb-uhci"
        case .piix4UHCI: "piix4-usb-uhci"
        case .ehci: "usb-ehci"
        case .ich9EHCI1: "ich9-usb-ehci1"
        case .ich9UHCI1: "ich9-usb-uhci1"
        case .ich9UHCI2: "ich9-usb-uhci2"
        case .ich9UHCI3: "ich9-usb-uhci3"
        case .vt82c686bUHCI: "vt82c686b-usb-uhci"
        case .pciOHCI: "pci-ohci"
        case .necXHCI: "nec-usb-xhci"
        case .qusb1, .qusb2, .qemuXHCI, .none: rawValue
        }
    }

    /// The PCI function of a member of the ICH9 set, and whether it opens the slot as
    /// multifunction (libvirt's `qemuDomainAssignDevicePCISlots`); nil for other models.
    var companionFunction: (function: UInt32, multifunction: Bool?)? {
        switch self {
        case .ich9EHCI1: (7, nil)
        case .ich9UHCI1: (0, true)
        case .ich9UHCI2: (1, nil)
        case .ich9UHCI3: (2, nil)
        default: nil
        }
    }
}
