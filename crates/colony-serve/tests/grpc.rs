//! The server, started on an ephemeral port, called by real tonic clients.

use candle_core::{DType, Device};
use candle_nn::VarMap;
use colony_core::{AGENT_FEATURE_DIM, AgentId, AgentObservation, AgentType, TASK_FEATURE_DIM};
use colony_log::LogReader;
use colony_models::{ModelCard, ModelDir, RouterNet, RouterNetConfig};
use colony_proto::v1::coordination_client::CoordinationClient;
use colony_proto::v1::experience_client::ExperienceClient;
use colony_proto::v1::{
    FailureReason, OutcomeKind, OutcomeReport, RouteBatchRequest, RouteRequest,
};
use colony_serve::{GrpcPolicy, RunningServer, ServeConfig, start};
use colony_sim::{Scenario, Simulation};
use std::path::Path;
use tonic::Code;
use tonic::transport::Channel;

async fn serve(root: &Path) -> RunningServer {
    start(ServeConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        model_dir: root.join("models"),
        log_dir: root.join("experience"),
        fallback: "skill-greedy".into(),
        failure_penalty_s: 30.0,
    })
    .await
    .expect("server starts")
}

async fn client(server: &RunningServer) -> CoordinationClient<Channel> {
    CoordinationClient::connect(format!("http://{}", server.addr))
        .await
        .expect("client connects")
}

fn observation(id: u32, speed: f32, queue: u32) -> AgentObservation {
    AgentObservation {
        id: AgentId(id),
        agent_type: AgentType::Coder,
        concurrency: 1,
        reported_queue_len: queue,
        reported_in_flight: 0,
        reported_up: true,
        report_age_s: 0.1,
        est_speed: speed,
        est_success: 0.9,
        outstanding: queue,
        observed_latency_s: 1.0,
        observed_success: 0.9,
        observed_count: 5,
        comm_delay_s: 0.001,
    }
}

fn request(agents: &[AgentObservation]) -> RouteRequest {
    let mut features = Vec::new();
    colony_core::encode_candidates(agents, &mut features);
    let mut task = vec![0.0; TASK_FEATURE_DIM];
    task[0] = 1.0;
    task[TASK_FEATURE_DIM - 4] = 3.0f32.ln_1p();
    RouteRequest {
        task_id: 77,
        task_features: task,
        agent_ids: agents.iter().map(|a| a.id.0).collect(),
        agent_features: features,
        feature_width: AGENT_FEATURE_DIM as u32,
        feature_schema_version: 0,
        model: String::new(),
        top_k: 0,
    }
}

fn agents() -> Vec<AgentObservation> {
    vec![
        observation(10, 0.5, 0),
        observation(11, 2.0, 0),
        observation(12, 2.0, 6),
    ]
}

#[tokio::test]
async fn without_a_model_a_named_heuristic_answers_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path()).await;
    let mut c = client(&server).await;
    let reply = c.route(request(&agents())).await.unwrap().into_inner();
    assert_eq!(reply.task_id, 77);
    assert!(reply.heuristic);
    assert_eq!(reply.answered_by, "heuristic:skill-greedy");
    assert_eq!(reply.agent_ids[0], 11, "the fast idle agent ranks first");
    assert_eq!(reply.agent_ids.len(), 3);
    assert!(reply.scores.windows(2).all(|w| w[0] >= w[1]));
    let mut req = request(&agents());
    req.model = "heuristic:least-loaded".into();
    req.top_k = 2;
    let reply = c.route(req).await.unwrap().into_inner();
    assert_eq!(reply.answered_by, "heuristic:least-loaded");
    assert_eq!(reply.agent_ids.len(), 2);
    assert!(
        !reply.agent_ids.contains(&12),
        "the loaded agent ranks last"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_input_gets_invalid_argument_or_not_found_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path()).await;
    let mut c = client(&server).await;
    let mut none = request(&agents());
    none.agent_ids.clear();
    none.agent_features.clear();
    let mut nan = request(&agents());
    nan.agent_features[5] = f32::NAN;
    let mut width = request(&agents());
    width.feature_width = 7;
    let mut short = request(&agents());
    short.task_features.pop();
    let mut unknown = request(&agents());
    unknown.model = "router@42".into();
    let cases = [
        (none, Code::InvalidArgument, "no candidate agents"),
        (nan, Code::InvalidArgument, "not finite"),
        (width, Code::InvalidArgument, "feature_width 7"),
        (short, Code::InvalidArgument, "task_features: expected 14"),
        (unknown, Code::NotFound, "unknown model `router@42`"),
    ];
    for (req, code, needle) in cases {
        let status = c.route(req).await.unwrap_err();
        assert_eq!(status.code(), code, "{status:?}");
        assert!(status.message().contains(needle), "{status:?}");
    }
    let mut bad = request(&agents());
    bad.agent_ids.clear();
    let batch = RouteBatchRequest {
        requests: vec![request(&agents()), bad],
    };
    let status = c.route_batch(batch).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().starts_with("request 1:"), "{status:?}");
    // The server is still healthy after all of that.
    assert!(c.route(request(&agents())).await.is_ok());
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn batches_and_streams_answer_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path()).await;
    let mut c = client(&server).await;
    let requests: Vec<RouteRequest> = (0..5)
        .map(|i| RouteRequest {
            task_id: i,
            ..request(&agents())
        })
        .collect();
    let batch = c
        .route_batch(RouteBatchRequest {
            requests: requests.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<u64> = batch.replies.iter().map(|r| r.task_id).collect();
    assert_eq!(ids, vec![0, 1, 2, 3, 4]);
    let stream = tokio_stream::iter(requests);
    let mut replies = c.route_stream(stream).await.unwrap().into_inner();
    let mut seen = Vec::new();
    while let Some(reply) = replies.message().await.unwrap() {
        assert_eq!(reply.agent_ids[0], 11);
        seen.push(reply.task_id);
    }
    assert_eq!(seen, vec![0, 1, 2, 3, 4]);
    server.shutdown().await.unwrap();
}

fn report(task_id: u64, ok: bool) -> OutcomeReport {
    let req = request(&agents());
    OutcomeReport {
        task_id,
        task_type: "coding".into(),
        task_size: 3.0,
        priority: 2,
        agent_id: 11,
        kind: if ok {
            OutcomeKind::Completed
        } else {
            OutcomeKind::Failed
        } as i32,
        failure: if ok {
            FailureReason::Unspecified
        } else {
            FailureReason::TaskError
        } as i32,
        time_s: 50.0 + task_id as f64,
        completion_s: 2.5,
        service_s: 1.5,
        task_features: req.task_features,
        candidate_ids: req.agent_ids,
        candidate_features: req.agent_features,
        feature_width: AGENT_FEATURE_DIM as u32,
        chosen: 1,
        policy: "test".into(),
    }
}

#[tokio::test]
async fn reported_outcomes_reach_the_experience_log() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path()).await;
    let channel = Channel::from_shared(format!("http://{}", server.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut reports: Vec<OutcomeReport> = (0..8).map(|i| report(i, i % 3 != 0)).collect();
    reports[4].task_type = "juggling".into();
    let summary = ExperienceClient::new(channel.clone())
        .report(tokio_stream::iter(reports))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((summary.accepted, summary.rejected), (7, 1));
    assert!(
        summary.errors[0].starts_with("report 4:"),
        "{:?}",
        summary.errors
    );
    assert!(
        summary.errors[0].contains("juggling"),
        "{:?}",
        summary.errors
    );

    let health = tonic_health::pb::health_client::HealthClient::new(channel)
        .check(tonic_health::pb::HealthCheckRequest {
            service: "colony.v1.Coordination".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(health.status, 1, "SERVING");
    server.shutdown().await.unwrap();

    // Acknowledged reports are in the log: 7 decisions and 7 outcomes.
    let events: Vec<_> = LogReader::open(&dir.path().join("experience"))
        .unwrap()
        .events()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(events.len(), 14);
    let failed = events
        .iter()
        .filter(|e| e.outcome.is_some_and(|o| !o.success))
        .count();
    assert_eq!(failed, 3, "reports 0, 3 and 6 failed; 4 was rejected");
}

fn save_router(models: &Path) {
    let cfg = RouterNetConfig::default();
    let varmap = VarMap::new();
    let model = RouterNet::with_varmap(&cfg, &varmap, DType::F32, &Device::Cpu).unwrap();
    let card = ModelCard::new("router", 1, "2026-11-23T00:00:00Z", cfg, "0123abcd");
    ModelDir::save(&ModelDir::path_for(models, 1), &model, &card).unwrap();
}

#[tokio::test]
async fn the_newest_model_answers_when_there_is_one() {
    let dir = tempfile::tempdir().unwrap();
    save_router(&dir.path().join("models"));
    let server = serve(dir.path()).await;
    assert_eq!(server.answered_by, "router@1");
    let mut c = client(&server).await;
    let reply = c.route(request(&agents())).await.unwrap().into_inner();
    assert!(!reply.heuristic);
    assert_eq!(reply.answered_by, "router@1");
    let mut sorted = reply.agent_ids.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, vec![10, 11, 12], "every candidate ranked once");
    assert!(
        reply
            .predicted_success
            .iter()
            .all(|p| (0.0..=1.0).contains(p))
    );
    assert!(reply.predicted_completion_s.iter().all(|t| *t > 0.0));
    let mut req = request(&agents());
    req.model = "heuristic:skill-greedy".into();
    let reply = c.route(req).await.unwrap().into_inner();
    assert!(reply.heuristic, "heuristics stay selectable by name");
    server.shutdown().await.unwrap();
}

#[test]
fn the_simulator_routes_through_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(serve(dir.path()));
    let addr = server.addr.to_string();
    let scenario = Scenario::load("heterogeneous-skills")
        .unwrap()
        .with_tasks(300);
    let policy = GrpcPolicy::connect(&addr, "").unwrap();
    let remote = Simulation::new(&scenario, 9, Box::new(policy))
        .unwrap()
        .run(&mut colony_core::NullSink, &mut |_, _| {})
        .unwrap();
    assert_eq!(remote.tasks, 300);
    assert!(remote.policy.starts_with("grpc("), "{}", remote.policy);
    // The server's skill-greedy heuristic ranks like the simulator's own skill-greedy.
    let local = Simulation::new(
        &scenario,
        9,
        colony_sim::policy_by_name("skill-greedy", 9).unwrap(),
    )
    .unwrap()
    .run(&mut colony_core::NullSink, &mut |_, _| {})
    .unwrap();
    let gap = (remote.mean_completion_s - local.mean_completion_s).abs();
    assert!(
        gap / local.mean_completion_s < 0.1,
        "{remote:?} vs {local:?}"
    );
    runtime.block_on(server.shutdown()).unwrap();
}
