import VirtKitCommands

/// The `virtkit` executable: a thin shell over ``VirtKitCommand``.
@main
struct VirtKitMain {
    static func main() async {
        await VirtKitCommand.main(nil)
    }
}
