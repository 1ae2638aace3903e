import Foundation
import Testing
import VirtKitTestSupport
@testable import VirtKitDomain

/// The tree built from SAX events is the tree the walk over libxml2's tree gives, and the
/// documents it does not take fall back to that walk.
@Suite struct XMLStreamingTreeBuilderTests {
    /// Every field of a tree, recursively, so that two trees compare as text.
    static func describe(_ element: XMLElement, depth: Int = 0) -> String {
        var out = String(repeating: " ", count: depth) + element.name + " line=\(element.line)"
        for attribute in element.attributes { out += " \(attribute.name)=\(attribute.value.debugDescription)" }
        out += " text=\(element.text.debugDescription)\n"
        for child in element.children { out += describe(child, depth: depth + 1) }
        return out
    }

    static func treeWalk(_ xml: String) -> String {
        do {
            return describe(try XMLDocumentParser.parseThroughTree(Array(xml.utf8), sourceName: "domain"))
        } catch {
            return "error: \(error)"
        }
    }

    static func streamed(_ xml: String) -> String? {
        Array(xml.utf8).withUnsafeBufferPointer { bytes in
            XMLStreamingTreeBuilder.parse(bytes, options: XMLDocumentParser.options).map { describe($0) }
        }
    }

    static func publicParse(_ xml: String) -> String {
        do {
            return describe(try XMLDocumentParser.parse(xml))
        } catch {
            return "error: \(error)"
        }
    }

    @Test func everyCaseGivesTheSameTree() {
        for name in TestFiles.caseNames {
            let xml = TestFiles.caseXML(name)
            let walked = Self.treeWalk(xml)
            // A case with `&` in an attribute (serial-escape) is left to the tree walk.
            if let streamed = Self.streamed(xml) { #expect(streamed == walked, "\(name)") }
            #expect(Self.publicParse(xml) == walked, "\(name)")
        }
    }

    static let plain: [String] = [
        "<a/>",
        "<a x='1' y=\"two words\"/>",
        "<a>\n  <b>t1</b>  mid  <c/>\n  tail</a>",
        "<?xml version='1.0' encoding='UTF-8'?>\n<!-- c --><a><?pi x?><b>x<!-- y -->z</b></a>",
        "<a><![CDATA[<raw> & ]]>after</a>",
        "<a>&lt;&amp;&gt;&#65;&#x42;&quot;&apos;</a>",
        "<a v='&#60;&#x3E;'/>",
        "<a>\r\n x \r\n</a>",
        "<a v='line\nbreak\ttab'>é ü 日本</a>",
        "<?xml version='1.0' encoding='ISO-8859-1'?><a v='\u{E9}'>\u{E9}</a>",
        "<a>" + String(repeating: "long text ", count: 200) + "</a>",
    ]

    @Test func plainDocumentsGiveTheSameTree() {
        for xml in Self.plain {
            let streamed = Self.streamed(xml)
            #expect(streamed != nil, "\(xml.prefix(60)) was not taken")
            #expect(streamed == Self.treeWalk(xml), "\(xml.prefix(60))")
        }
    }

    static let declined: [String] = [
        "<a v='a&amp;b'/>",
        "<!DOCTYPE a [<!ENTITY e 'ent'>]><a v='&e;'>x&e;y</a>",
        "<!DOCTYPE a [<!ATTLIST a d CDATA 'def'>]><a/>",
        "<a xmlns='urn:x'><b/></a>",
        "<a xmlns:q='urn:q'><q:b q:c='1'/></a>",
        "<q:a><b/></q:a>",
        "<a xml:lang='en'/>",
        "<a>" + String(repeating: "\n", count: 65540) + "<b/></a>",
        "<a><b></a>",
        "<a>&undefined;</a>",
        "<a/><b/>",
        "not xml",
        "<a v='1' v='2'/>",
    ]

    @Test func otherDocumentsFallBackToTheTreeWalk() {
        for xml in Self.declined {
            #expect(Self.streamed(xml) == nil, "\(xml.prefix(60)) was taken")
            #expect(Self.publicParse(xml) == Self.treeWalk(xml), "\(xml.prefix(60))")
        }
    }
}
