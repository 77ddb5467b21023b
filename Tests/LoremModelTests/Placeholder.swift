import XCTest
@testable import LoremModel
