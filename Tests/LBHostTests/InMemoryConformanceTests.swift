import LBHost
import LBHostConformance
import XCTest

/// The in-memory host passes the same suite the kernel passes (LinuxNamespaceTests, the lab).
final class InMemoryConformanceTests: XCTestCase {
    func testInMemoryHostWithIPVSBehavesLikeTheKernel() async {
        let results = await HostConformance(host: InMemoryHost()).run()
        XCTAssertEqual(results.filter { !$0.passed }.map(\.description), [])
        XCTAssertGreaterThan(results.count, 20, "IPVS checks must have run")
    }

    func testInMemoryHostWithoutIPVSRefusesIPVSActions() async {
        let results = await HostConformance(host: InMemoryHost(ipvs: false)).run()
        XCTAssertEqual(results.filter { !$0.passed }.map(\.description), [])
        XCTAssertTrue(results.contains { $0.name == "ipvs unavailable is reported and refused" })
    }
}
