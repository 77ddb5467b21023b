import LoremCL
import LoremModel

/// All weights of a model uploaded once, in precision T (the device mirror of `LoremWeights`).
struct DeviceWeights<T: CLReal> {
    struct Initial {
        let radial: CLMLP<T>
        let nodeInit: CLDenseLayer<T>?
        let scalarMessage: CLDenseLayer<T>
        let scalarUpdate: DeviceUpdate<T>
        let coefficients: CLDenseLayer<T>
        let tensorDense: CLTensorDense<T>
        let sphericalUpdate: DeviceUpdate<T>
        let energy: CLMLP<T>
    }

    struct Equivariant {
        let coefficients: CLDenseLayer<T>
        let messagePass: CLMessagePass<T>
        let nodeDense: CLEquivariantDense<T>
        let messageDense: CLEquivariantDense<T>
        let tensor: CLTensor<T>
        let update: DeviceUpdate<T>
    }

    struct Interaction {
        let radial: CLMLP<T>
        let scalarMessage: CLDenseLayer<T>
        let scalarUpdate: DeviceUpdate<T>
        let equivariant: Equivariant?
        let energy: CLMLP<T>
    }

    struct LongRange {
        let charges: CLMLP<T>
        let sphericalCharges: CLTensorDense<T>
        let potentialDense: CLEquivariantDense<T>
        let tensor: CLTensor<T>
        let update: DeviceUpdate<T>
        let energy: CLMLP<T>
    }

    let initial: Initial
    let interactions: [Interaction]
    let longRange: LongRange?
    /// LoremBEC's tensor heads, in `LoremWeights.tensorPredictors` order; empty for `Lorem`.
    let tensorPredictors: [CLTensorPredictor<T>]

    init(_ c: CLContext, _ w: LoremWeights) throws {
        let i = w.initial
        initial = Initial(
            radial: try CLMLP(c, i.radial), nodeInit: try i.nodeInit.map { try CLDenseLayer(c, $0) },
            scalarMessage: try CLDenseLayer(c, i.scalarMessage), scalarUpdate: try DeviceUpdate(c, i.scalarUpdate),
            coefficients: try CLDenseLayer(c, i.coefficients), tensorDense: try CLTensorDense(c, i.tensorDense),
            sphericalUpdate: try DeviceUpdate(c, i.sphericalUpdate), energy: try CLMLP(c, i.energy))
        interactions = try w.interactions.map { t in
            Interaction(
                radial: try CLMLP(c, t.radial), scalarMessage: try CLDenseLayer(c, t.scalarMessage),
                scalarUpdate: try DeviceUpdate(c, t.scalarUpdate),
                equivariant: try t.equivariant.map { q in
                    Equivariant(
                        coefficients: try CLDenseLayer(c, q.coefficients), messagePass: try CLMessagePass(c, q.messagePass),
                        nodeDense: try CLEquivariantDense(c, q.nodeDense), messageDense: try CLEquivariantDense(c, q.messageDense),
                        tensor: try CLTensor(c, q.tensor), update: try DeviceUpdate(c, q.update))
                },
                energy: try CLMLP(c, t.energy))
        }
        longRange = try w.longRange.map { l in
            LongRange(
                charges: try CLMLP(c, l.charges), sphericalCharges: try CLTensorDense(c, l.sphericalCharges),
                potentialDense: try CLEquivariantDense(c, l.potentialDense), tensor: try CLTensor(c, l.tensor),
                update: try DeviceUpdate(c, l.update), energy: try CLMLP(c, l.energy))
        }
        tensorPredictors = try w.tensorPredictors.map { try CLTensorPredictor(c, $0) }
    }
}
