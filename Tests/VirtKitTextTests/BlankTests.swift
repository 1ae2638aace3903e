import Testing
import VirtKitText

@Suite("Trimming blanks")
struct BlankTests {
    @Test(arguments: [
        ("", ""), ("   ", ""), (" a ", "a"), ("\t\r\n a b \r\n", "a b"), ("abc", "abc"),
        ("\u{00A0}x\u{00A0}", "\u{00A0}x\u{00A0}"), (" é ", "é"), ("x\n", "x"),
    ])
    func trimsOnlySpaceTabCRLF(text: String, expected: String) {
        #expect(text.trimmingBlanks == expected)
        #expect(text[...].trimmingBlanks == expected)
        #expect(String(decoding: Array(text.utf8).trimmingBlanks, as: UTF8.self) == expected)
        #expect(String(decoding: Array(text.utf8)[...].trimmingBlanks, as: UTF8.self) == expected)
    }
}
