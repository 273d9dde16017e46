//! RouterNet's contract beyond numerics: padding never matters, outputs have their ranges, bad
//! shapes are errors naming the shape (never panics), and `rank` orders and validates.

mod common;

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use colony_core::{AGENT_FEATURE_DIM, CoreError, TASK_FEATURE_DIM};
use colony_models::{ModelError, PADDED_SCORE, RouterNet};
use common::{Lcg, fresh, inputs, small_config, to_rows};

/// Pads `agents` `[1, n, dim]` with `extra` rows of garbage (1e30, then NaN) at position 1.
fn pad_with_garbage(agents: &Tensor, extra: usize) -> (Tensor, Tensor) {
    let (_, n, dim) = agents.dims3().unwrap();
    let mut garbage = vec![f32::NAN; extra * dim];
    garbage[..dim].fill(1e30);
    let junk = Tensor::from_vec(garbage, (1, extra, dim), &Device::Cpu).unwrap();
    let first = agents.narrow(1, 0, 1).unwrap();
    let rest = agents.narrow(1, 1, n - 1).unwrap();
    let padded = Tensor::cat(&[&first, &junk, &rest], 1).unwrap();
    let mut mask = vec![1.0f32; n + extra];
    mask[1..=extra].fill(0.0);
    (
        padded,
        Tensor::from_vec(mask, (1, n + extra), &Device::Cpu).unwrap(),
    )
}

#[test]
fn padding_changes_nothing_for_real_candidates() {
    let (net, _vars) = fresh(&small_config(), DType::F32);
    let (task, agents) = inputs(&mut Lcg(1), 1, 4);
    let plain = net.forward(&task, &agents, None).unwrap();
    let (padded, mask) = pad_with_garbage(&agents, 3);
    let out = net.forward(&task, &padded, Some(&mask)).unwrap();
    let (plain, out) = (
        to_rows(&plain.score)[0].clone(),
        to_rows(&out.score)[0].clone(),
    );
    let real: Vec<f32> = [0, 4, 5, 6].iter().map(|&i| out[i]).collect();
    for (a, b) in real.iter().zip(&plain) {
        assert!(
            (a - b).abs() <= 1e-5 * (1.0 + b.abs()),
            "{real:?} vs {plain:?}"
        );
    }
    assert_eq!(&out[1..4], &[PADDED_SCORE; 3]);
}

#[test]
fn outputs_have_their_ranges_and_padding_never_wins() {
    let (net, _vars) = fresh(&small_config(), DType::F32);
    let (task, agents) = inputs(&mut Lcg(2), 2, 3);
    let mask = Tensor::new(&[[1u8, 0, 1], [0, 1, 1]], &Device::Cpu).unwrap();
    let out = net.forward(&task, &agents, Some(&mask)).unwrap();
    assert_eq!(out.score.dims(), &[2, 3]);
    let (score, time, success) = (
        to_rows(&out.score),
        to_rows(&out.completion_s),
        to_rows(&out.success),
    );
    let keep = to_rows(&mask.to_dtype(DType::F32).unwrap());
    for b in 0..2 {
        let best = (0..3)
            .max_by(|&i, &j| score[b][i].total_cmp(&score[b][j]))
            .unwrap();
        assert_eq!(keep[b][best], 1.0, "row {b}: a padded candidate won");
        for i in (0..3).filter(|&i| keep[b][i] == 1.0) {
            assert!(time[b][i] > 0.0 && success[b][i] > 0.0 && success[b][i] < 1.0);
            let cost = time[b][i] + 30.0 * (1.0 - success[b][i]);
            assert!(
                (score[b][i] + cost).abs() < 1e-4,
                "score is the negated expected cost"
            );
        }
    }
}

#[test]
fn an_f32_mask_and_a_u8_mask_agree() {
    let (net, _vars) = fresh(&small_config(), DType::F32);
    let (task, agents) = inputs(&mut Lcg(3), 1, 3);
    let f = Tensor::new(&[[1.0f32, 0.0, 1.0]], &Device::Cpu).unwrap();
    let u = Tensor::new(&[[1u8, 0, 1]], &Device::Cpu).unwrap();
    let a = net.forward(&task, &agents, Some(&f)).unwrap();
    let b = net.forward(&task, &agents, Some(&u)).unwrap();
    assert_eq!(to_rows(&a.score), to_rows(&b.score));
}

fn shape_error_names(
    net: &RouterNet,
    task: &Tensor,
    agents: &Tensor,
    mask: Option<&Tensor>,
) -> &'static str {
    match net.forward(task, agents, mask) {
        Err(ModelError::Shape { what, .. }) => what,
        other => panic!("expected a shape error, got {other:?}"),
    }
}

#[test]
fn bad_shapes_are_errors_that_name_the_input() {
    let (net, _vars) = fresh(&small_config(), DType::F32);
    let dev = Device::Cpu;
    let (task, agents) = inputs(&mut Lcg(4), 2, 3);
    let zeros = |shape: &[usize]| Tensor::zeros(shape, DType::F32, &dev).unwrap();
    let cases: [(Tensor, Tensor, Option<Tensor>, &str); 6] = [
        (
            task.clone(),
            zeros(&[2, 3, AGENT_FEATURE_DIM + 1]),
            None,
            "agents",
        ),
        (
            task.clone(),
            zeros(&[2, 0, AGENT_FEATURE_DIM]),
            None,
            "agents",
        ),
        (task.clone(), zeros(&[3, AGENT_FEATURE_DIM]), None, "agents"),
        (zeros(&[3, TASK_FEATURE_DIM]), agents.clone(), None, "task"),
        (
            zeros(&[2, TASK_FEATURE_DIM, 1]),
            agents.clone(),
            None,
            "task",
        ),
        (task.clone(), agents.clone(), Some(zeros(&[2, 4])), "mask"),
    ];
    for (task, agents, mask, what) in cases {
        assert_eq!(shape_error_names(&net, &task, &agents, mask.as_ref()), what);
    }
    let err = net.forward(&task, &zeros(&[2, 3, 5]), None).unwrap_err();
    assert!(err.to_string().contains("[2, 3, 5]"), "{err}");
}

#[test]
fn half_precision_is_refused() {
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F16, &Device::Cpu);
    let err = RouterNet::new(&small_config(), vb).unwrap_err();
    assert!(
        matches!(err, ModelError::UnsupportedDType { dtype: DType::F16 }),
        "{err:?}"
    );
}

#[test]
fn rank_orders_best_first_and_agrees_with_forward() {
    let (net, _vars) = fresh(&small_config(), DType::F32);
    let mut rng = Lcg(5);
    let task = rng.vec(TASK_FEATURE_DIM);
    let agents = rng.vec(6 * AGENT_FEATURE_DIM);
    let ranked = net.rank(&task, &agents, 6).unwrap();
    let mut seen: Vec<usize> = ranked.iter().map(|r| r.index).collect();
    assert!(ranked.windows(2).all(|w| w[0].score >= w[1].score));
    seen.sort_unstable();
    assert_eq!(seen, (0..6).collect::<Vec<_>>());
    let t = Tensor::from_slice(&task, (1, TASK_FEATURE_DIM), &Device::Cpu).unwrap();
    let a = Tensor::from_slice(&agents, (1, 6, AGENT_FEATURE_DIM), &Device::Cpu).unwrap();
    let out = net.forward(&t, &a, None).unwrap();
    let (score, success) = (
        to_rows(&out.score)[0].clone(),
        to_rows(&out.success)[0].clone(),
    );
    for r in &ranked {
        assert_eq!((r.score, r.success), (score[r.index], success[r.index]));
    }
}

#[test]
fn rank_validates_lengths_counts_and_finiteness() {
    let (net, _vars) = fresh(&small_config(), DType::F32);
    let task = vec![0.5f32; TASK_FEATURE_DIM];
    let agents = vec![0.1f32; 2 * AGENT_FEATURE_DIM];
    let wrong_length = |r| matches!(r, Err(ModelError::Input(CoreError::WrongLength { .. })));
    assert!(wrong_length(net.rank(&task, &agents, 3)));
    assert!(wrong_length(net.rank(&task, &agents, usize::MAX)));
    assert!(wrong_length(net.rank(&task[1..], &agents, 2)));
    assert!(matches!(
        net.rank(&task, &[], 0),
        Err(ModelError::Shape { .. })
    ));
    let mut bad = agents.clone();
    bad[AGENT_FEATURE_DIM + 3] = f32::INFINITY;
    let err = net.rank(&task, &bad, 2).unwrap_err();
    assert!(
        matches!(err, ModelError::Input(CoreError::NotFinite { index, .. }) if index == AGENT_FEATURE_DIM + 3)
    );
}

#[test]
fn the_model_can_be_shared_across_serving_threads() {
    fn assert_send_sync<T: Send + Sync>(_: &T) {}
    let (net, _vars) = fresh(&small_config(), DType::F32);
    assert_send_sync(&net);
    let (task, agents) = inputs(&mut Lcg(9), 1, 2);
    let here = to_rows(&net.forward(&task, &agents, None).unwrap().score);
    let there = std::thread::scope(|s| {
        s.spawn(|| to_rows(&net.forward(&task, &agents, None).unwrap().score))
            .join()
            .unwrap()
    });
    assert_eq!(here, there);
}
