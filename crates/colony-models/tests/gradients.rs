//! Gradients of a tiny RouterNet from candle's `backward()` against central finite differences
//! in f64. This catches any op without a real backward pass (candle 0.11's fused softmax and
//! layer norm return no gradient at all without failing).

mod common;

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::VarMap;
use colony_models::{RouterNet, RouterNetConfig};

const STEP: f64 = 1e-5;
/// Central differences in f64 with this step are accurate to about 1e-9 here; a wrong or
/// missing gradient is off by orders of magnitude more.
const TOLERANCE: f64 = 1e-6;

struct Problem {
    task: Tensor,
    agents: Tensor,
    mask: Tensor,
    score_weights: Tensor,
    success_weights: Tensor,
}

fn problem() -> Problem {
    let mut rng = common::Lcg(7);
    let (task, agents) = common::inputs(&mut rng, 2, 4);
    let dev = Device::Cpu;
    let to64 = |t: Tensor| t.to_dtype(DType::F64).unwrap();
    let mask = Tensor::new(&[[1.0f64, 1.0, 1.0, 0.0], [1.0, 0.0, 1.0, 1.0]], &dev).unwrap();
    let weights = |rng: &mut common::Lcg| {
        Tensor::from_vec(rng.vec(8), (2, 4), &dev)
            .unwrap()
            .to_dtype(DType::F64)
            .unwrap()
    };
    // Zero weight on padded candidates: their constant -1e9 score would only swamp the loss and
    // make finite differences lose precision.
    let score_weights = (weights(&mut rng) * &mask).unwrap();
    let success_weights = weights(&mut rng);
    Problem {
        task: to64(task),
        agents: to64(agents),
        mask,
        score_weights,
        success_weights,
    }
}

/// A scalar that depends on every output path: the score (completion time and success) and the
/// success probability on its own, with per-candidate weights so no symmetry hides an error.
fn loss(net: &RouterNet, p: &Problem) -> Tensor {
    let out = net.forward(&p.task, &p.agents, Some(&p.mask)).unwrap();
    let score = (out.score.affine(1.0 / 30.0, 0.0).unwrap() * &p.score_weights).unwrap();
    let success = (out.success * &p.success_weights).unwrap();
    (score.sum_all().unwrap() + success.sum_all().unwrap()).unwrap()
}

fn scalar(t: &Tensor) -> f64 {
    t.to_scalar::<f64>().unwrap()
}

/// Central difference of the loss with respect to element `index` of `var`.
fn finite_difference(net: &RouterNet, p: &Problem, var: &Var, index: usize) -> f64 {
    let original = var.flatten_all().unwrap().to_vec1::<f64>().unwrap();
    let at = |delta: f64| {
        let mut values = original.clone();
        values[index] += delta;
        let t = Tensor::from_vec(values, var.shape(), &Device::Cpu).unwrap();
        var.set(&t).unwrap();
        scalar(&loss(net, p))
    };
    let (plus, minus) = (at(STEP), at(-STEP));
    let restored = Tensor::from_vec(original, var.shape(), &Device::Cpu).unwrap();
    var.set(&restored).unwrap();
    (plus - minus) / (2.0 * STEP)
}

/// Small enough that finite differences over every tensor stay fast, with every kind of block.
fn tiny_model() -> (RouterNet, VarMap) {
    let cfg = RouterNetConfig {
        d_model: 8,
        heads: 2,
        layers: 1,
        ffn_hidden: 12,
        head_hidden: 6,
        ..Default::default()
    };
    let varmap = VarMap::new();
    let net = RouterNet::with_varmap(&cfg, &varmap, DType::F64, &Device::Cpu).unwrap();
    (net, varmap)
}

#[test]
fn backward_matches_finite_differences_for_every_parameter_tensor() {
    let (net, varmap) = tiny_model();
    let p = problem();
    let grads = loss(&net, &p).backward().unwrap();
    let vars = varmap.data().lock().unwrap().clone();
    assert_eq!(vars.len(), net.named_parameters().len());
    let mut checked = 0;
    for (name, var) in &vars {
        let grad = grads
            .get(var.as_tensor())
            .unwrap_or_else(|| panic!("{name}: backward produced no gradient"));
        let grad = grad.flatten_all().unwrap().to_vec1::<f64>().unwrap();
        let n = grad.len();
        for index in [0, n / 2, n - 1] {
            let fd = finite_difference(&net, &p, var, index);
            let err = (grad[index] - fd).abs();
            assert!(
                err <= TOLERANCE * (1.0 + fd.abs()),
                "{name}[{index}]: backward {} vs finite difference {fd}",
                grad[index]
            );
            checked += 1;
        }
    }
    assert!(checked >= 3 * 30, "checked only {checked} entries");
}

#[test]
fn gradients_are_not_trivially_zero() {
    // Guards the test above: if the loss ignored the weights, zero would match zero everywhere.
    let (net, varmap) = tiny_model();
    let p = problem();
    let grads = loss(&net, &p).backward().unwrap();
    let vars = varmap.data().lock().unwrap().clone();
    for name in [
        "layers.0.attn.q.weight",
        "layers.0.norm1.weight",
        "cross.q.weight",
    ] {
        let grad = grads.get(vars[name].as_tensor()).unwrap();
        let norm = scalar(&grad.sqr().unwrap().sum_all().unwrap()).sqrt();
        assert!(norm > 1e-6, "{name}: gradient norm {norm}");
    }
}
