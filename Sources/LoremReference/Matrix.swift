import LoremEngineCore
/// A dense row-major matrix of Float64: per-atom or per-pair feature rows.
public struct Matrix: Sendable, Equatable {
    public var rows: Int
    public var cols: Int
    public var data: [Double]

    public init(rows: Int, cols: Int, data: [Double]) {
        precondition(data.count == rows * cols)
        self.rows = rows
        self.cols = cols
        self.data = data
    }

    public init(zeros rows: Int, _ cols: Int) {
        self.init(rows: rows, cols: cols, data: [Double](repeating: 0, count: rows * cols))
    }

    @inlinable public subscript(i: Int, j: Int) -> Double {
        get { data[i * cols + j] }
        set { data[i * cols + j] = newValue }
    }

    public func row(_ i: Int) -> ArraySlice<Double> { data[(i * cols)..<((i + 1) * cols)] }

    public static func + (a: Matrix, b: Matrix) -> Matrix {
        precondition(a.rows == b.rows && a.cols == b.cols)
        return Matrix(rows: a.rows, cols: a.cols, data: zip(a.data, b.data).map(+))
    }

    public static func += (a: inout Matrix, b: Matrix) {
        precondition(a.rows == b.rows && a.cols == b.cols)
        for k in a.data.indices { a.data[k] += b.data[k] }
    }

    /// [a ‖ b] along columns.
    public static func concat(_ a: Matrix, _ b: Matrix) -> Matrix {
        precondition(a.rows == b.rows)
        var out = Matrix(zeros: a.rows, a.cols + b.cols)
        for i in 0..<a.rows {
            for j in 0..<a.cols { out[i, j] = a[i, j] }
            for j in 0..<b.cols { out[i, a.cols + j] = b[i, j] }
        }
        return out
    }

    /// Columns [start, start+count) as a new matrix.
    public func columns(_ start: Int, _ count: Int) -> Matrix {
        var out = Matrix(zeros: rows, count)
        for i in 0..<rows { for j in 0..<count { out[i, j] = self[i, start + j] } }
        return out
    }
}

/// An equivariant array [batch, (L+1)², F] (e3x's [batch, 1, (L+1)², F] without the parity axis,
/// which LOREM never grows: docs/MATH.md §0). Element (i, a, f) is at (i·slots + a)·F + f.
public struct SphericalArray: Sendable, Equatable {
    public var rows: Int
    public var maxDegree: Int
    public var features: Int
    public var data: [Double]

    public init(rows: Int, maxDegree: Int, features: Int, data: [Double]? = nil) {
        self.rows = rows
        self.maxDegree = maxDegree
        self.features = features
        let n = rows * (maxDegree + 1) * (maxDegree + 1) * features
        self.data = data ?? [Double](repeating: 0, count: n)
        precondition(self.data.count == n)
    }

    public var slots: Int { (maxDegree + 1) * (maxDegree + 1) }

    @inlinable public func offset(_ i: Int, _ a: Int) -> Int { (i * (maxDegree + 1) * (maxDegree + 1) + a) * features }

    public func zerosLike() -> SphericalArray { SphericalArray(rows: rows, maxDegree: maxDegree, features: features) }

    public static func += (a: inout SphericalArray, b: SphericalArray) {
        precondition(a.data.count == b.data.count)
        for k in a.data.indices { a.data[k] += b.data[k] }
    }
}
