import Foundation

/// How a CART split is scored.
enum SplitCriterion: String, Sendable {
    case gini
    case entropy
    case mse

    var task: Task { self == .mse ? .regression : .classification }
}

/// Settings for growing one tree.
struct TreeSettings: Sendable {
    var criterion: SplitCriterion
    var maxDepth: Int?
    var minSamplesSplit: Int
    var minSamplesLeaf: Int
    /// Features examined per node; d means all.
    var maxFeatures: Int
}

/// A fitted tree as flat arrays (node 0 is the root, children after parents in depth-first
/// order, as scikit-learn numbers them). Leaves have feature, left and right -1.
/// `value` holds `outputs` numbers per node: class probabilities, or the mean for regression.
struct TreeArrays: Sendable, Equatable {
    var feature: [Int32] = []
    var threshold: [Double] = []
    var left: [Int32] = []
    var right: [Int32] = []
    var value: [Double] = []
    var outputs: Int

    var nodeCount: Int { feature.count }

    /// The leaf that row `base` of `x` reaches; `x <= threshold` goes left, as in scikit-learn.
    @inline(__always)
    func leaf(_ xs: UnsafeBufferPointer<Double>, base: Int) -> Int {
        var node = 0
        while left[node] >= 0 {
            node = xs[base + Int(feature[node])] <= threshold[node] ? Int(left[node]) : Int(right[node])
        }
        return node
    }
}

/// The training data in the layout the splitter wants, shared read-only by all trees of a forest.
struct TreeData: Sendable {
    let rows: Int
    let columns: Int
    /// Column-major copy of the features: scans read one feature at a time.
    let byColumn: [Double]
    /// Class index per row (classification) or nil.
    let labels: [Int32]?
    let classCount: Int
    /// Regression target or nil.
    let target: [Double]?
    /// For each feature, all row indices sorted by value (ties by row index), computed once per forest.
    let presorted: [Int32]

    init(_ x: Matrix, labels: [Int32]?, classCount: Int, target: [Double]?) {
        rows = x.rows
        columns = x.columns
        var byColumn = [Double](repeating: 0, count: x.rows * x.columns)
        for i in 0..<x.rows {
            for j in 0..<x.columns { byColumn[j * x.rows + i] = x.values[i * x.columns + j] }
        }
        self.byColumn = byColumn
        self.labels = labels
        self.classCount = classCount
        self.target = target
        var presorted = [Int32](repeating: 0, count: x.rows * x.columns)
        let n = x.rows
        // Features sort independently, so they are spread over the cores.
        let slots = ResultSlots<[Int32]>(count: x.columns)
        let columnsCopy = byColumn
        DispatchQueue.concurrentPerform(iterations: x.columns) { f in
            var order = (0..<Int32(n)).map { $0 }
            columnsCopy.withUnsafeBufferPointer { c in
                let base = f * n
                order.sort { a, b in
                    let va = c[base + Int(a)]
                    let vb = c[base + Int(b)]
                    return va < vb || (va == vb && a < b)
                }
            }
            slots.set(f, order)
        }
        for f in 0..<x.columns {
            if let order = slots.get(f) {
                presorted.replaceSubrange((f * n)..<((f + 1) * n), with: order)
            }
        }
        self.presorted = presorted
    }
}

/// Grows one CART tree by exhaustive best-split search over presorted feature orders,
/// following scikit-learn's BestSplitter and DepthFirstTreeBuilder so that, with every
/// feature considered, the same splits come out: best proxy impurity improvement (strict
/// `>`, so the first of equal candidates wins), thresholds at the midpoint of consecutive
/// distinct values, values closer than 1e-7 not split, leaves at impurity ≤ machine epsilon.
struct TreeGrower {
    /// scikit-learn's FEATURE_THRESHOLD: smaller gaps between sorted values are not split points.
    static let featureThreshold = 1e-7
    /// scikit-learn takes entropy logarithms as ln(x)/ln(2), which can differ from log2 in the
    /// last bit; the same formula keeps near-ties between splits resolving the same way.
    static let ln2 = Foundation.log(2.0)

    /// `randomState` seeds scikit-learn's feature-drawing generator (see `SklearnTreeRandom`).
    ///
    /// `sklearnOrder` (used for single regression trees) also keeps scikit-learn's own sample
    /// order: each tried feature re-sorts the node with its introsort and the chosen split
    /// partitions in place, and sums run in that order. Regression sums then round exactly as
    /// in scikit-learn, which decides ties between features that make the same partition.
    /// It costs a sort per node and feature, as scikit-learn's splitter does; classification
    /// needs none of it, because its weighted class counts are whole numbers and exact.
    static func grow(
        _ data: TreeData, weights: [Double]?, settings: TreeSettings, randomState: UInt32, sklearnOrder: Bool = false
    ) -> TreeArrays {
        var random = SklearnTreeRandom(state: randomState)
        let exact = sklearnOrder && data.target != nil
        let n = data.rows
        let d = data.columns
        // Rows with weight 0 (not drawn by the bootstrap) take no part, as in scikit-learn.
        var members = [Bool](repeating: true, count: n)
        if let weights {
            for i in 0..<n { members[i] = weights[i] > 0 }
        }
        let m = members.reduce(0) { $0 + ($1 ? 1 : 0) }
        var order = [Int32](repeating: 0, count: m * d)
        var values = [Double](repeating: 0, count: m * d)
        for f in 0..<d {
            var k = f * m
            for p in 0..<n {
                let s = data.presorted[f * n + p]
                if members[Int(s)] {
                    order[k] = s
                    values[k] = data.byColumn[f * n + Int(s)]
                    k += 1
                }
            }
        }
        let w = weights ?? [Double](repeating: 1, count: n)
        let outputs = data.labels != nil ? data.classCount : 1
        var tree = TreeArrays(outputs: outputs)
        var goesLeft = [Bool](repeating: false, count: n)
        var scratchOrder = [Int32](repeating: 0, count: m)
        var scratchValues = [Double](repeating: 0, count: m)
        var features = Array(0..<d)
        var constantFeatures = [Int](repeating: 0, count: d)
        // scikit-learn's samples array and its sorted feature values, for `exact`.
        let samples = UnsafeMutablePointer<Int32>.allocate(capacity: max(m, 1))
        let sortedValues = UnsafeMutablePointer<Double>.allocate(capacity: max(m, 1))
        defer {
            samples.deallocate()
            sortedValues.deallocate()
        }
        var next = 0
        for i in 0..<n where members[i] {
            samples[next] = Int32(i)
            next += 1
        }
        var leftCounts = [Double](repeating: 0, count: outputs)
        var totalCounts = [Double](repeating: 0, count: outputs)

        struct Pending {
            var start: Int
            var end: Int
            var depth: Int
            var parent: Int
            var isLeft: Bool
            /// Features known to be constant here (found in ancestors), kept at the front of `features`.
            var constants: Int
        }
        var stack = [Pending(start: 0, end: m, depth: 0, parent: -1, isLeft: false, constants: 0)]

        while let job = stack.popLast() {
            let id = tree.nodeCount
            if job.parent >= 0 {
                if job.isLeft { tree.left[job.parent] = Int32(id) } else { tree.right[job.parent] = Int32(id) }
            }
            let count = job.end - job.start
            // Node statistics, summed in scikit-learn's sample order (exact) or feature 0's.
            var weightSum = 0.0
            var sum = 0.0
            var squares = 0.0
            for k in 0..<outputs { totalCounts[k] = 0 }
            for p in job.start..<job.end {
                let s = Int(exact ? samples[p] : order[p])
                let ws = w[s]
                weightSum += ws
                if let labels = data.labels {
                    totalCounts[Int(labels[s])] += ws
                } else if let target = data.target {
                    sum += ws * target[s]
                    squares += ws * target[s] * target[s]
                }
            }
            let impurity: Double
            switch settings.criterion {
            case .gini: impurity = gini(totalCounts, weightSum)
            case .entropy: impurity = entropy(totalCounts, weightSum)
            case .mse: impurity = squares / weightSum - (sum / weightSum) * (sum / weightSum)
            }
            tree.feature.append(-1)
            tree.threshold.append(-2)
            tree.left.append(-1)
            tree.right.append(-1)
            if data.labels != nil {
                for k in 0..<outputs { tree.value.append(totalCounts[k] / weightSum) }
            } else {
                tree.value.append(sum / weightSum)
            }

            var isLeaf = count < settings.minSamplesSplit || count < 2 * settings.minSamplesLeaf
            if let maxDepth = settings.maxDepth, job.depth >= maxDepth { isLeaf = true }
            if impurity <= Double.ulpOfOne { isLeaf = true }
            if isLeaf { continue }

            // Best split search.
            var bestProxy = -Double.infinity
            var bestFeature = -1
            var bestPosition = 0
            var bestThreshold = 0.0
            // scikit-learn's BestSplitter feature loop, draw for draw: the same random
            // generator, the same swaps and the same bookkeeping of constant features, so that
            // features are tried in scikit-learn's order and equal-improvement ties resolve alike.
            var remaining = d
            var visited = 0
            var foundConstants = 0
            var drawnConstants = 0
            let knownConstants = job.constants
            var totalConstants = knownConstants
            order.withUnsafeBufferPointer { ord in
                values.withUnsafeBufferPointer { vals in
                    while remaining > totalConstants
                        && (visited < settings.maxFeatures || visited <= foundConstants + drawnConstants)
                    {
                        visited += 1
                        var j = random.int(drawnConstants, remaining - foundConstants)
                        if j < knownConstants {
                            features.swapAt(drawnConstants, j)
                            drawnConstants += 1
                            continue
                        }
                        j += foundConstants
                        let f = features[j]
                        guard let orderStart = ord.baseAddress, let valueStart = vals.baseAddress else { break }
                        // Segment pointers: this feature's presorted arrays, or scikit-learn's freshly
                        // sorted samples; `base + p` indexes either.
                        var base = f * m
                        var segmentOrder = UnsafePointer(orderStart)
                        var segmentValues = UnsafePointer(valueStart)
                        if exact {
                            for p in job.start..<job.end {
                                sortedValues[p] = data.byColumn[f * n + Int(samples[p])]
                            }
                            SklearnSort.introsort(sortedValues + job.start, samples + job.start, count)
                            base = 0
                            segmentOrder = UnsafePointer(samples)
                            segmentValues = UnsafePointer(sortedValues)
                        }
                        if segmentValues[base + job.end - 1] <= segmentValues[base + job.start] + featureThreshold {
                            features.swapAt(j, totalConstants)
                            foundConstants += 1
                            totalConstants += 1
                            continue
                        }
                        remaining -= 1
                        features.swapAt(remaining, j)
                        var leftWeight = 0.0
                        var leftSum = 0.0
                        var leftPosition = job.start
                        for k in 0..<outputs { leftCounts[k] = 0 }
                        let minLeaf = settings.minSamplesLeaf
                        var p = job.start
                        while p < job.end - 1 {
                            let s = Int(segmentOrder[base + p])
                            let ws = w[s]
                            leftWeight += ws
                            if let labels = data.labels {
                                leftCounts[Int(labels[s])] += ws
                            }
                            p += 1
                            // Split between p - 1 and p: skip equal values and too-small children.
                            if segmentValues[base + p] <= segmentValues[base + p - 1] + featureThreshold { continue }
                            let leftN = p - job.start
                            if leftN < minLeaf || job.end - p < minLeaf { continue }
                            let rightWeight = weightSum - leftWeight
                            let proxy: Double
                            switch settings.criterion {
                            case .mse:
                                // The left sum follows scikit-learn's Criterion.update path (add from the
                                // last evaluated position, or subtract back from the node total when that
                                // is shorter) so equal splits round, and so tie-break, the same way.
                                if let target = data.target {
                                    if p - leftPosition <= job.end - p {
                                        for q in leftPosition..<p {
                                            let t = Int(segmentOrder[base + q])
                                            leftSum += w[t] * target[t]
                                        }
                                    } else {
                                        leftSum = sum
                                        var q = job.end - 1
                                        while q >= p {
                                            let t = Int(segmentOrder[base + q])
                                            leftSum -= w[t] * target[t]
                                            q -= 1
                                        }
                                    }
                                    leftPosition = p
                                }
                                let rightSum = sum - leftSum
                                proxy = leftSum * leftSum / leftWeight + rightSum * rightSum / rightWeight
                            case .gini, .entropy:
                                var leftImpurity = 0.0
                                var rightImpurity = 0.0
                                if settings.criterion == .gini {
                                    var sqLeft = 0.0
                                    var sqRight = 0.0
                                    for k in 0..<outputs {
                                        sqLeft += leftCounts[k] * leftCounts[k]
                                        let r = totalCounts[k] - leftCounts[k]
                                        sqRight += r * r
                                    }
                                    leftImpurity = 1 - sqLeft / (leftWeight * leftWeight)
                                    rightImpurity = 1 - sqRight / (rightWeight * rightWeight)
                                } else {
                                    for k in 0..<outputs {
                                        let l = leftCounts[k]
                                        if l > 0 {
                                            let q = l / leftWeight
                                            leftImpurity -= q * Foundation.log(q) / ln2
                                        }
                                        let r = totalCounts[k] - l
                                        if r > 0 {
                                            let q = r / rightWeight
                                            rightImpurity -= q * Foundation.log(q) / ln2
                                        }
                                    }
                                }
                                proxy = -rightWeight * rightImpurity - leftWeight * leftImpurity
                            }
                            if proxy > bestProxy {
                                bestProxy = proxy
                                bestFeature = f
                                bestPosition = p
                                // Halves first, as scikit-learn, so huge values cannot overflow.
                                var t = segmentValues[base + p - 1] / 2 + segmentValues[base + p] / 2
                                // Rounding onto the upper value would send it left under `<=`; keep the lower one.
                                if t == segmentValues[base + p] || t.isInfinite { t = segmentValues[base + p - 1] }
                                bestThreshold = t
                            }
                        }
                    }
                }
            }
            // Restore the ancestors' constants at the front and remember the newly found ones.
            for i in 0..<knownConstants { features[i] = constantFeatures[i] }
            for i in knownConstants..<(knownConstants + foundConstants) { constantFeatures[i] = features[i] }
            if bestFeature < 0 { continue }

            if exact {
                // scikit-learn's partition_samples_final: in place, by the threshold.
                var low = job.start
                var high = job.end
                while low < high {
                    if data.byColumn[bestFeature * n + Int(samples[low])] <= bestThreshold {
                        low += 1
                    } else {
                        high -= 1
                        let t = samples[low]
                        samples[low] = samples[high]
                        samples[high] = t
                    }
                }
                tree.feature[id] = Int32(bestFeature)
                tree.threshold[id] = bestThreshold
                stack.append(Pending(start: low, end: job.end, depth: job.depth + 1, parent: id, isLeft: false, constants: totalConstants))
                stack.append(Pending(start: job.start, end: low, depth: job.depth + 1, parent: id, isLeft: true, constants: totalConstants))
                continue
            }

            // Partition every feature's segment stably around the chosen split.
            let splitBase = bestFeature * m
            for p in job.start..<job.end { goesLeft[Int(order[splitBase + p])] = p < bestPosition }
            for f in 0..<d {
                let base = f * m
                var l = job.start
                var r = 0
                for p in job.start..<job.end {
                    let s = order[base + p]
                    if goesLeft[Int(s)] {
                        order[base + l] = s
                        values[base + l] = values[base + p]
                        l += 1
                    } else {
                        scratchOrder[r] = s
                        scratchValues[r] = values[base + p]
                        r += 1
                    }
                }
                for q in 0..<r {
                    order[base + l + q] = scratchOrder[q]
                    values[base + l + q] = scratchValues[q]
                }
            }
            tree.feature[id] = Int32(bestFeature)
            tree.threshold[id] = bestThreshold
            // Right pushed first so the left child is numbered next (depth-first, left first).
            stack.append(
                Pending(start: bestPosition, end: job.end, depth: job.depth + 1, parent: id, isLeft: false, constants: totalConstants))
            stack.append(
                Pending(start: job.start, end: bestPosition, depth: job.depth + 1, parent: id, isLeft: true, constants: totalConstants))
        }
        return tree
    }

    private static func gini(_ counts: [Double], _ total: Double) -> Double {
        var sq = 0.0
        for c in counts { sq += c * c }
        return 1 - sq / (total * total)
    }

    private static func entropy(_ counts: [Double], _ total: Double) -> Double {
        var e = 0.0
        for c in counts where c > 0 {
            let q = c / total
            e -= q * Foundation.log(q) / ln2
        }
        return e
    }
}

/// Tensors and predictions shared by decision-tree and random-forest.
enum TreeModels {
    /// Averages the leaf values reached in each tree: class probabilities or regression means.
    static func predictValues(_ trees: [TreeArrays], _ x: Matrix) -> Matrix {
        let outputs = trees.first?.outputs ?? 1
        var out = [Double](repeating: 0, count: x.rows * outputs)
        let scale = 1 / Double(max(trees.count, 1))
        x.values.withUnsafeBufferPointer { xs in
            out.withUnsafeMutableBufferPointer { o in
                for i in 0..<x.rows {
                    let base = i * x.columns
                    for tree in trees {
                        let leaf = tree.leaf(xs, base: base)
                        for k in 0..<outputs { o[i * outputs + k] += tree.value[leaf * outputs + k] }
                    }
                    if trees.count > 1 {
                        for k in 0..<outputs { o[i * outputs + k] *= scale }
                    }
                }
            }
        }
        return Matrix(rows: x.rows, columns: outputs, values: out)
    }

    /// Flat tensors: feature, threshold, left, right (child indices local to each tree),
    /// value ([nodes, classes] or [nodes]) and, for forests, tree_offsets (first node of each tree).
    static func tensors(_ trees: [TreeArrays], forest: Bool) -> [NamedTensor] {
        let nodes = trees.reduce(0) { $0 + $1.nodeCount }
        let outputs = trees.first?.outputs ?? 1
        var feature: [Double] = []
        var threshold: [Double] = []
        var left: [Double] = []
        var right: [Double] = []
        var value: [Double] = []
        var offsets: [Double] = []
        feature.reserveCapacity(nodes)
        threshold.reserveCapacity(nodes)
        left.reserveCapacity(nodes)
        right.reserveCapacity(nodes)
        value.reserveCapacity(nodes * outputs)
        for tree in trees {
            offsets.append(Double(feature.count))
            feature += tree.feature.map(Double.init)
            threshold += tree.threshold
            left += tree.left.map(Double.init)
            right += tree.right.map(Double.init)
            value += tree.value
        }
        var out = [
            NamedTensor(name: "feature", shape: [nodes], values: feature),
            NamedTensor(name: "threshold", shape: [nodes], values: threshold),
            NamedTensor(name: "left", shape: [nodes], values: left),
            NamedTensor(name: "right", shape: [nodes], values: right),
            NamedTensor(name: "value", shape: outputs == 1 ? [nodes] : [nodes, outputs], values: value),
        ]
        if forest {
            out.append(NamedTensor(name: "tree_offsets", shape: [trees.count], values: offsets))
        }
        return out
    }

    /// Rebuilds trees from tensors, checking every index so a damaged file cannot crash prediction.
    static func trees(from parameters: [NamedTensor], outputs: Int, featureCount: Int, forest: Bool, algorithm: String) throws
        -> [TreeArrays]
    {
        let feature = try TrainingChecks.tensor(parameters, "feature", algorithm: algorithm)
        let threshold = try TrainingChecks.tensor(parameters, "threshold", algorithm: algorithm)
        let left = try TrainingChecks.tensor(parameters, "left", algorithm: algorithm)
        let right = try TrainingChecks.tensor(parameters, "right", algorithm: algorithm)
        let value = try TrainingChecks.tensor(parameters, "value", algorithm: algorithm)
        let nodes = feature.values.count
        for t in [threshold, left, right] where t.values.count != nodes {
            throw LearningError.invalidStoredModel(
                algorithm: algorithm, reason: "tensor '\(t.name)' has \(t.values.count) values for \(nodes) nodes")
        }
        guard value.values.count == nodes * outputs else {
            throw LearningError.invalidStoredModel(
                algorithm: algorithm, reason: "tensor 'value' has \(value.values.count) values, expected \(nodes * outputs)")
        }
        var offsets = [0]
        if forest {
            let stored = try TrainingChecks.tensor(parameters, "tree_offsets", algorithm: algorithm)
            offsets = stored.values.map { Int($0) }
        }
        guard !offsets.isEmpty else {
            throw LearningError.invalidStoredModel(algorithm: algorithm, reason: "no trees")
        }
        var trees: [TreeArrays] = []
        for (t, start) in offsets.enumerated() {
            let end = t + 1 < offsets.count ? offsets[t + 1] : nodes
            guard start >= 0, start < end, end <= nodes else {
                throw LearningError.invalidStoredModel(
                    algorithm: algorithm, reason: "tensor 'tree_offsets' is not increasing within \(nodes) nodes")
            }
            let size = end - start
            var tree = TreeArrays(outputs: outputs)
            for i in start..<end {
                let f = Int(feature.values[i])
                let l = Int(left.values[i])
                let r = Int(right.values[i])
                let isLeaf = l == -1 && r == -1
                // Children must come after their parent, which also rules out cycles.
                guard isLeaf ? f == -1 : (f >= 0 && f < featureCount && l > i - start && l < size && r > i - start && r < size) else {
                    throw LearningError.invalidStoredModel(
                        algorithm: algorithm, reason: "node \(i - start) of tree \(t) has invalid feature or child indices")
                }
                tree.feature.append(Int32(f))
                tree.threshold.append(threshold.values[i])
                tree.left.append(Int32(l))
                tree.right.append(Int32(r))
            }
            tree.value = Array(value.values[(start * outputs)..<(end * outputs)])
            trees.append(tree)
        }
        return trees
    }
}

/// scikit-learn's tree random generator (`our_rand_r`, an xorshift on 32 bits) and the
/// seeding its trees use, RandomState(seed).randint(0, 2³¹ - 1) on numpy's legacy Mersenne
/// Twister, so that decision-tree seed s draws features like random_state=s.
struct SklearnTreeRandom {
    private(set) var state: UInt32

    init(state: UInt32) {
        self.state = state
    }

    /// The splitter state DecisionTree*(random_state=seed) starts from.
    init(sklearnSeed seed: UInt32) {
        var twister = MersenneTwister(seed: seed)
        // numpy's legacy bounded integers: mask to 31 bits and reject values above the range.
        let range: UInt32 = 2_147_483_646
        var value: UInt32
        repeat { value = twister.next() & 0x7FFF_FFFF } while value > range
        state = value
    }

    mutating func next() -> UInt32 {
        if state == 0 { state = 1 }
        state ^= state << 13
        state ^= state >> 17
        state ^= state << 5
        return state % 0x8000_0000
    }

    /// A value in low..<high, as scikit-learn's rand_int.
    mutating func int(_ low: Int, _ high: Int) -> Int {
        low + Int(next()) % (high - low)
    }
}

/// MT19937 with numpy's legacy integer seeding (init_genrand), only for `SklearnTreeRandom`.
struct MersenneTwister {
    private var mt = [UInt32](repeating: 0, count: 624)
    private var index = 624

    init(seed: UInt32) {
        mt[0] = seed
        for i in 1..<624 {
            mt[i] = 1_812_433_253 &* (mt[i - 1] ^ (mt[i - 1] >> 30)) &+ UInt32(i)
        }
    }

    mutating func next() -> UInt32 {
        if index >= 624 {
            for i in 0..<624 {
                let y = (mt[i] & 0x8000_0000) | (mt[(i + 1) % 624] & 0x7FFF_FFFF)
                mt[i] = mt[(i + 397) % 624] ^ (y >> 1) ^ (y & 1 == 1 ? 0x9908_B0DF : 0)
            }
            index = 0
        }
        var y = mt[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C_5680
        y ^= (y << 15) & 0xEFC6_0000
        y ^= y >> 18
        return y
    }
}

/// scikit-learn's simultaneous_sort with three-way partitioning (introsort, median-of-3
/// pivots, heapsort past depth 2·log2(n), insertion sort below 16), ported step for step so
/// equal values end up in the same order as in scikit-learn's splitter.
enum SklearnSort {
    static func introsort(_ values: UnsafeMutablePointer<Double>, _ indices: UnsafeMutablePointer<Int32>, _ n: Int) {
        if n == 0 { return }
        introsort3way(values, indices, n, 2 * Int(log2(Double(n))))
    }

    private static func swap(_ v: UnsafeMutablePointer<Double>, _ ix: UnsafeMutablePointer<Int32>, _ i: Int, _ j: Int) {
        let tv = v[i]
        v[i] = v[j]
        v[j] = tv
        let ti = ix[i]
        ix[i] = ix[j]
        ix[j] = ti
    }

    private static func median3(_ v: UnsafeMutablePointer<Double>, _ n: Int) -> Double {
        let a = v[0]
        let b = v[n / 2]
        let c = v[n - 1]
        if a < b {
            if b < c { return b } else if a < c { return c } else { return a }
        } else if b < c {
            return a < c ? a : c
        } else {
            return b
        }
    }

    private static func introsort3way(
        _ values: UnsafeMutablePointer<Double>, _ indices: UnsafeMutablePointer<Int32>, _ count: Int, _ depth: Int
    ) {
        var v = values
        var ix = indices
        var n = count
        var maxd = depth
        while n > 15 {
            if maxd <= 0 {
                heapsort(v, ix, n)
                return
            }
            maxd -= 1
            let pivot = median3(v, n)
            var i = 0
            var l = 0
            var r = n
            while i < r {
                if v[i] < pivot {
                    swap(v, ix, i, l)
                    i += 1
                    l += 1
                } else if v[i] > pivot {
                    r -= 1
                    swap(v, ix, i, r)
                } else {
                    i += 1
                }
            }
            introsort3way(v, ix, l, maxd)
            v += r
            ix += r
            n -= r
        }
        for i in 1..<max(n, 1) {
            let tv = v[i]
            let ti = ix[i]
            var j = i
            while j > 0 && v[j - 1] > tv {
                v[j] = v[j - 1]
                ix[j] = ix[j - 1]
                j -= 1
            }
            v[j] = tv
            ix[j] = ti
        }
    }

    private static func heapsort(_ v: UnsafeMutablePointer<Double>, _ ix: UnsafeMutablePointer<Int32>, _ n: Int) {
        var start = (n - 2) / 2
        while true {
            siftDown(v, ix, start, n)
            if start == 0 { break }
            start -= 1
        }
        var end = n - 1
        while end > 0 {
            swap(v, ix, 0, end)
            siftDown(v, ix, 0, end)
            end -= 1
        }
    }

    private static func siftDown(_ v: UnsafeMutablePointer<Double>, _ ix: UnsafeMutablePointer<Int32>, _ start: Int, _ end: Int) {
        var root = start
        while true {
            let child = root * 2 + 1
            var largest = root
            if child < end && v[largest] < v[child] { largest = child }
            if child + 1 < end && v[largest] < v[child + 1] { largest = child + 1 }
            if largest == root { break }
            swap(v, ix, root, largest)
            root = largest
        }
    }
}
