import XCTest
@testable import LoremReference
