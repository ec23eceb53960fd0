//! The engine against the in-memory fake: ordering, no-op detection,
//! change sets, the replacement guard, failures, recovery and plans.

use std::collections::BTreeMap;
use std::path::Path;

use super::api::ResourceChange;
use super::artifacts::Artifact;
use super::fake::FakeCloud;
use super::*;
use crate::wait::Polling;
use pricewatch_core::bundle::Bundle;
use pricewatch_core::config::Environments;
use pricewatch_core::reporter::Reporter;

use pricewatch_core::reporter::SilentReporter as Quiet;

fn bundle(env: &str) -> Bundle {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let env = Environments::new(dir).load(env).unwrap();
    pricewatch_core::bundle::load(dir, &env).unwrap()
}

fn artifacts() -> BTreeMap<String, Artifact> {
    ["ingest-lambda", "operator-lambda"]
        .into_iter()
        .map(|name| {
            let artifact = Artifact {
                name: name.into(),
                sha256: "ab".repeat(32),
                key: format!("artifacts/{name}/{}.zip", "ab".repeat(32)),
                zip: vec![1, 2, 3],
            };
            (name.to_string(), artifact)
        })
        .collect()
}

fn options() -> Options {
    Options {
        allow_replace: Vec::new(),
        recover: false,
        polling: Polling::immediate(),
        parallelism: 4,
    }
}

fn deploy_with(cloud: &FakeCloud, bundle: &Bundle, options: &Options) -> DeployReport {
    let artifacts = artifacts();
    let target = Target {
        env: &bundle.env,
        bundle,
        artifacts: &artifacts,
    };
    crate::block_on(Engine::new(cloud, cloud, &Quiet, options).deploy(&target, None))
}

fn outcomes(report: &DeployReport) -> Vec<(String, StackOutcome)> {
    report
        .stacks
        .iter()
        .map(|s| (s.stack.clone(), s.outcome))
        .collect()
}

#[test]
fn first_deploy_creates_in_wave_order_and_the_second_changes_nothing() {
    let cloud = FakeCloud::default();
    let bundle = bundle("local");
    let report = deploy_with(&cloud, &bundle, &options());
    assert!(report.ok(), "{report:?}");
    assert!(report
        .stacks
        .iter()
        .all(|s| s.outcome == StackOutcome::Created));
    let creates: Vec<String> = cloud
        .calls()
        .into_iter()
        .filter(|c| c.starts_with("CreateStack"))
        .collect();
    let position = |stack: &str| {
        creates
            .iter()
            .position(|c| c.ends_with(&format!("-{stack}")))
            .unwrap()
    };
    assert!(position("foundation") < position("streams"));
    assert!(
        position("streams") < position("ingest") && position("streams") < position("warehouse")
    );
    assert!(position("ingest") < position("monitoring"));
    // Downstream parameters come from upstream outputs.
    let ingest = cloud.stack("pricewatch-local-ingest").unwrap();
    assert_eq!(
        ingest.parameters["KeyArn"],
        "fake:pricewatch-local-foundation/KeyArn"
    );
    assert_eq!(
        ingest.parameters["CodeKey"],
        artifacts()["ingest-lambda"].key
    );
    assert_eq!(cloud.count("PutObject"), 2, "one zip per Lambda");

    let before = cloud.calls().len();
    let again = deploy_with(&cloud, &bundle, &options());
    assert!(
        again
            .stacks
            .iter()
            .all(|s| s.outcome == StackOutcome::Unchanged),
        "{again:?}"
    );
    let second: Vec<String> = cloud.calls()[before..].to_vec();
    for forbidden in [
        "CreateStack",
        "CreateChangeSet",
        "ExecuteChangeSet",
        "PutObject",
    ] {
        assert!(
            !second.iter().any(|c| c.starts_with(forbidden)),
            "{forbidden} in {second:?}"
        );
    }
}

#[test]
fn a_changed_stack_is_updated_through_a_change_set() {
    let cloud = FakeCloud::default();
    let bundle = bundle("local");
    deploy_with(&cloud, &bundle, &options());
    let mut changed = bundle.clone();
    changed.stacks[1].template.push_str("# a change\n");
    let report = deploy_with(&cloud, &changed, &options());
    assert!(report.ok());
    assert_eq!(report.stacks[1].outcome, StackOutcome::Updated);
    assert_eq!(cloud.count("CreateChangeSet"), 1);
    assert_eq!(cloud.count("ExecuteChangeSet"), 1);
    assert!(
        outcomes(&report)
            .iter()
            .filter(|(_, o)| *o == StackOutcome::Unchanged)
            .count()
            == bundle.stacks.len() - 1
    );
}

#[test]
fn replacing_a_stateful_resource_is_refused_unless_allowed() {
    let bundle = bundle("local");
    let mut cloud = FakeCloud::default();
    deploy_with(&cloud, &bundle, &options());
    cloud.changes.insert(
        "pricewatch-local-streams".into(),
        vec![ResourceChange {
            action: "Modify".into(),
            logical_id: "ProductsStream".into(),
            resource_type: "AWS::Kinesis::Stream".into(),
            replacement: Some("True".into()),
            recreating_properties: vec!["Name".into()],
        }],
    );
    let mut changed = bundle.clone();
    changed.stacks[1].template.push_str("# rename\n");
    let report = deploy_with(&cloud, &changed, &options());
    assert!(!report.ok());
    let streams = &report.stacks[1];
    assert_eq!(streams.outcome, StackOutcome::Failed);
    let detail = streams.detail.as_deref().unwrap();
    assert!(detail.contains("would replace ProductsStream (AWS::Kinesis::Stream): changing Name requires a new resource"), "{detail}");
    assert!(
        detail.contains("--allow-replace ProductsStream"),
        "{detail}"
    );
    assert_eq!(cloud.count("ExecuteChangeSet"), 0);
    assert_eq!(
        cloud.count("DeleteChangeSet"),
        1,
        "the refused change set is cleaned up"
    );
    // Later waves are not started.
    assert!(report.stacks[2..]
        .iter()
        .all(|s| s.outcome == StackOutcome::NotStarted));

    let allowed = Options {
        allow_replace: vec!["ProductsStream".into()],
        ..options()
    };
    let report = deploy_with(&cloud, &changed, &allowed);
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.stacks[1].outcome, StackOutcome::Updated);
}

#[test]
fn a_failed_create_reports_its_root_cause_and_needs_recover() {
    let bundle = bundle("local");
    let mut cloud = FakeCloud::default();
    cloud.fail_create.insert(
        "pricewatch-local-streams".into(),
        (
            "ProductsStream".into(),
            "Property validation failure: [ShardCount must be positive]".into(),
        ),
    );
    let report = deploy_with(&cloud, &bundle, &options());
    assert!(!report.ok());
    let detail = report.stacks[1].detail.as_deref().unwrap();
    assert!(detail.contains("ROLLBACK_COMPLETE"), "{detail}");
    assert!(
        detail.contains(
            "ProductsStream (AWS::Kinesis::Stream) CREATE_FAILED: Property validation failure"
        ),
        "{detail}"
    );
    assert!(!detail.contains("cancelled"), "{detail}");
    assert_eq!(report.stacks[0].outcome, StackOutcome::Created);
    assert!(report.stacks[2..]
        .iter()
        .all(|s| s.outcome == StackOutcome::NotStarted));

    // The next deploy recognises the failed create and says how to recover.
    cloud.fail_create.clear();
    let report = deploy_with(&cloud, &bundle, &options());
    let detail = report.stacks[1].detail.as_deref().unwrap();
    assert!(
        detail.contains("pricewatch deploy --env local --recover"),
        "{detail}"
    );

    let recover = Options {
        recover: true,
        ..options()
    };
    let report = deploy_with(&cloud, &bundle, &recover);
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.stacks[1].outcome, StackOutcome::Created);
    assert_eq!(cloud.count("DeleteStack"), 1);
}

#[test]
fn an_operation_left_in_progress_is_waited_for() {
    let bundle = bundle("local");
    let cloud = FakeCloud::default();
    deploy_with(&cloud, &bundle, &options());
    let mut foundation = cloud.stack("pricewatch-local-foundation").unwrap();
    foundation.status = "UPDATE_IN_PROGRESS".into();
    foundation.busy_for = 3;
    cloud.put_stack("pricewatch-local-foundation", foundation);
    let report = deploy_with(&cloud, &bundle, &options());
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.stacks[0].outcome, StackOutcome::Unchanged);
    assert_eq!(
        cloud.stack("pricewatch-local-foundation").unwrap().status,
        "UPDATE_COMPLETE"
    );
}

/// A deploy killed while a change set executed leaves the stack either
/// still updating (waited for, above) or rolled back to its old template:
/// the next deploy sees the difference and applies the change again.
#[test]
fn an_update_rolled_back_after_an_interrupted_deploy_is_applied_again() {
    let bundle = bundle("local");
    let cloud = FakeCloud::default();
    deploy_with(&cloud, &bundle, &options());
    let mut streams = cloud.stack("pricewatch-local-streams").unwrap();
    streams.status = "UPDATE_ROLLBACK_COMPLETE".into();
    cloud.put_stack("pricewatch-local-streams", streams);
    let mut changed = bundle.clone();
    changed.stacks[1]
        .template
        .push_str("# the change that was rolled back\n");
    let report = deploy_with(&cloud, &changed, &options());
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.stacks[1].outcome, StackOutcome::Updated);
    assert_eq!(
        cloud.count("CreateStack"),
        bundle.stacks.len(),
        "nothing created twice"
    );
    assert_eq!(
        cloud.stack("pricewatch-local-streams").unwrap().status,
        "UPDATE_COMPLETE"
    );
}

#[test]
fn a_stack_busy_beyond_the_timeout_is_reported_not_waited_for_forever() {
    let bundle = bundle("local");
    let cloud = FakeCloud::default();
    deploy_with(&cloud, &bundle, &options());
    let mut streams = cloud.stack("pricewatch-local-streams").unwrap();
    streams.status = "UPDATE_IN_PROGRESS".into();
    streams.busy_for = usize::MAX;
    cloud.put_stack("pricewatch-local-streams", streams);
    let short = Options {
        polling: Polling {
            timeout: std::time::Duration::from_millis(50),
            ..Polling::immediate()
        },
        ..options()
    };
    let report = deploy_with(&cloud, &bundle, &short);
    let detail = report.stacks[1].detail.as_deref().unwrap();
    assert!(detail.contains("did not finish within"), "{detail}");
}

#[test]
fn protected_envs_get_termination_protection_and_a_stack_policy() {
    let bundle = bundle("prod");
    let cloud = FakeCloud::default();
    let report = deploy_with(&cloud, &bundle, &options());
    assert!(report.ok(), "{report:?}");
    let streams = cloud.stack("pricewatch-prod-streams").unwrap();
    assert!(streams.termination_protection);
    let policy = streams.policy.unwrap();
    assert!(
        policy.contains("LogicalResourceId/ProductsStream") && policy.contains("Update:Replace"),
        "{policy}"
    );
    // The monitoring stack has nothing stateful: no policy, no protection.
    assert!(cloud
        .stack("pricewatch-prod-monitoring")
        .unwrap()
        .policy
        .is_none());

    let artifacts = artifacts();
    let target = Target {
        env: &bundle.env,
        bundle: &bundle,
        artifacts: &artifacts,
    };
    let opts = options();
    let engine = Engine::new(&cloud, &cloud, &Quiet, &opts);
    let report = crate::block_on(engine.destroy(&target, false));
    assert!(!report.ok());
    assert!(report.stacks.iter().any(|s| s
        .detail
        .as_deref()
        .is_some_and(|d| d.contains("termination protection is on"))));
    let report = crate::block_on(engine.destroy(&target, true));
    assert!(report.ok(), "{report:?}");
    assert!(cloud.state.lock().unwrap().stacks.is_empty());
}

#[test]
fn destroy_goes_in_reverse_order_and_empties_the_bucket() {
    let bundle = bundle("local");
    let cloud = FakeCloud::default();
    deploy_with(&cloud, &bundle, &options());
    let artifacts = artifacts();
    let target = Target {
        env: &bundle.env,
        bundle: &bundle,
        artifacts: &artifacts,
    };
    let report =
        crate::block_on(Engine::new(&cloud, &cloud, &Quiet, &options()).destroy(&target, false));
    assert!(report.ok(), "{report:?}");
    let deletes: Vec<String> = cloud
        .calls()
        .into_iter()
        .filter(|c| c.starts_with("DeleteStack") || c.starts_with("EmptyBucket"))
        .collect();
    assert!(deletes[0].ends_with("monitoring"), "{deletes:?}");
    let emptied: Vec<&String> = deletes
        .iter()
        .filter(|c| c.starts_with("EmptyBucket"))
        .collect();
    assert!(
        emptied[0].contains("-artifacts-") && emptied[1].contains("-archive-"),
        "both buckets of a env that keeps no data: {deletes:?}"
    );
    let last = deletes
        .iter()
        .rposition(|c| c.starts_with("EmptyBucket"))
        .unwrap();
    assert!(deletes[last + 1].ends_with("foundation"), "{deletes:?}");
    assert!(cloud.state.lock().unwrap().objects.is_empty());
}

#[test]
fn plan_summarises_and_deploy_applies_exactly_the_planned_change_set() {
    let bundle = bundle("local");
    let cloud = FakeCloud::default();
    let artifacts = artifacts();
    let fresh_target = Target {
        env: &bundle.env,
        bundle: &bundle,
        artifacts: &artifacts,
    };
    let opts = options();
    let engine = Engine::new(&cloud, &cloud, &Quiet, &opts);
    let plan = crate::block_on(engine.plan(&fresh_target, false)).unwrap();
    assert!(plan.stacks.iter().all(|s| s.action == StackAction::Create));
    assert!(plan.stacks[0]
        .changes
        .iter()
        .any(|c| c.logical_id == "ArtifactsBucket" && c.action == "Add"));
    assert_eq!(
        cloud.count("CreateChangeSet"),
        0,
        "new stacks are planned from the template"
    );

    deploy_with(&cloud, &bundle, &options());
    let mut changed = bundle.clone();
    changed.stacks[2].template.push_str("# change\n");
    let target = Target {
        env: &bundle.env,
        bundle: &changed,
        artifacts: &artifacts,
    };
    let plan = crate::block_on(engine.plan(&target, true)).unwrap();
    let actions: Vec<StackAction> = plan.stacks.iter().map(|s| s.action).collect();
    assert_eq!(
        actions,
        [
            StackAction::Unchanged,
            StackAction::Unchanged,
            StackAction::Update,
            StackAction::Unchanged,
            StackAction::Unchanged,
            StackAction::Unchanged
        ]
    );
    assert!(plan.has_changes());
    let planned_id = plan.stacks[2].change_set_id.clone().unwrap();

    let report = crate::block_on(engine.deploy(&target, Some(&plan.stacks)));
    assert!(report.ok(), "{report:?}");
    assert_eq!(
        cloud.count("CreateChangeSet"),
        1,
        "deploy --plan creates no second change set"
    );
    assert!(cloud
        .calls()
        .contains(&format!("ExecuteChangeSet {}", plan.stacks[2].stack_name)));
    assert!(!cloud
        .state
        .lock()
        .unwrap()
        .change_sets
        .contains_key(&planned_id));

    // A plan made before the stack moved is refused.
    let report = crate::block_on(engine.deploy(&target, Some(&plan.stacks)));
    let detail = report.stacks[2].detail.as_deref().unwrap_or_default();
    assert!(detail.contains("the plan no longer matches"), "{report:?}");
}

#[test]
fn a_plan_refuses_when_the_templates_changed_since() {
    let bundle = bundle("local");
    let cloud = FakeCloud::default();
    let artifacts = artifacts();
    let target = Target {
        env: &bundle.env,
        bundle: &bundle,
        artifacts: &artifacts,
    };
    let opts = options();
    let engine = Engine::new(&cloud, &cloud, &Quiet, &opts);
    let plan = crate::block_on(engine.plan(&target, true)).unwrap();
    let mut changed = bundle.clone();
    changed.stacks[0]
        .template
        .push_str("# edited after planning\n");
    let target = Target {
        env: &bundle.env,
        bundle: &changed,
        artifacts: &artifacts,
    };
    let report = crate::block_on(engine.deploy(&target, Some(&plan.stacks)));
    assert!(report.stacks[0]
        .detail
        .as_deref()
        .unwrap()
        .contains("its template changed since the plan"));
    assert_eq!(cloud.count("CreateStack"), 0);
}

#[test]
fn status_names_the_next_command() {
    let bundle = bundle("local");
    let mut cloud = FakeCloud::default();
    cloud.fail_create.insert(
        "pricewatch-local-foundation".into(),
        ("Key".into(), "KMS said no".into()),
    );
    deploy_with(&cloud, &bundle, &options());
    let artifacts = artifacts();
    let target = Target {
        env: &bundle.env,
        bundle: &bundle,
        artifacts: &artifacts,
    };
    let report =
        crate::block_on(Engine::new(&cloud, &cloud, &Quiet, &options()).status(&target)).unwrap();
    assert!(!report.healthy());
    let foundation = &report.stacks[0];
    assert_eq!(foundation.status, "ROLLBACK_COMPLETE");
    assert!(foundation
        .failure
        .as_deref()
        .unwrap()
        .contains("Key CREATE_FAILED: KMS said no"));
    assert_eq!(
        foundation.next.as_deref(),
        Some("pricewatch deploy --env local --recover")
    );
    assert_eq!(report.stacks[1].status, "NOT_DEPLOYED");
}

/// Keeps every line reported.
#[derive(Default)]
struct Lines(std::sync::Mutex<Vec<String>>);
impl Reporter for Lines {
    fn info(&self, line: &str) {
        self.0.lock().unwrap().push(line.to_string());
    }
    fn warn(&self, line: &str) {
        self.0.lock().unwrap().push(line.to_string());
    }
    fn debug(&self, _: &str) {}
}

#[test]
fn waiting_on_a_busy_stack_reports_only_new_events() {
    let bundle = bundle("local");
    let cloud = FakeCloud::default();
    deploy_with(&cloud, &bundle, &options());
    let mut foundation = cloud.stack("pricewatch-local-foundation").unwrap();
    foundation.status = "UPDATE_IN_PROGRESS".into();
    foundation.busy_for = 2;
    cloud.put_stack("pricewatch-local-foundation", foundation);
    let artifacts = artifacts();
    let target = Target {
        env: &bundle.env,
        bundle: &bundle,
        artifacts: &artifacts,
    };
    let lines = Lines::default();
    let opts = options();
    let report = crate::block_on(Engine::new(&cloud, &cloud, &lines, &opts).deploy(&target, None));
    assert!(report.ok(), "{report:?}");
    let lines = lines.0.lock().unwrap();
    assert!(
        lines.iter().any(|l| l.contains("already in progress")),
        "{lines:?}"
    );
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("CREATE_IN_PROGRESS") || l.contains("CREATE_COMPLETE")),
        "the first deploy's events were reported again: {lines:?}"
    );
}

fn status_with_drift(cloud: &FakeCloud, bundle: &Bundle, options: &Options) -> StatusReport {
    let artifacts = artifacts();
    let target = Target {
        env: &bundle.env,
        bundle,
        artifacts: &artifacts,
    };
    crate::block_on(async {
        let engine = Engine::new(cloud, cloud, &Quiet, options);
        let mut report = engine.status(&target).await?;
        engine.detect_drift(&mut report).await?;
        Ok::<_, DeployError>(report)
    })
    .unwrap()
}

#[test]
fn drift_detection_reports_each_stack_and_what_to_do_about_a_drifted_one() {
    let bundle = bundle("local");
    let mut cloud = FakeCloud::default();
    cloud.drift.insert(
        "pricewatch-local-ingest".into(),
        api::DriftDetection::Complete {
            status: "DRIFTED".into(),
            drifted_resources: 2,
        },
    );
    deploy_with(&cloud, &bundle, &options());
    let report = status_with_drift(&cloud, &bundle, &options());
    assert_eq!(cloud.count("DetectStackDrift"), report.stacks.len());
    for stack in &report.stacks {
        if stack.stack == "ingest" {
            assert_eq!(stack.drift.as_deref(), Some("DRIFTED"));
            assert_eq!(stack.drifted_resources, Some(2));
            assert!(stack
                .next
                .as_deref()
                .unwrap()
                .contains("describe-stack-resource-drifts --stack-name pricewatch-local-ingest"));
        } else {
            assert_eq!(stack.drift.as_deref(), Some("IN_SYNC"), "{}", stack.stack);
            assert_eq!(stack.next, None);
        }
    }
    assert!(!report.healthy(), "a drifted stack needs action");
}

#[test]
fn an_endpoint_without_drift_detection_is_named_and_needs_action() {
    let bundle = bundle("local");
    let cloud = FakeCloud {
        drift_unsupported: true,
        ..FakeCloud::default()
    };
    deploy_with(&cloud, &bundle, &options());
    let report = status_with_drift(&cloud, &bundle, &options());
    assert_eq!(
        cloud.count("DetectStackDrift"),
        1,
        "asked once, not per stack"
    );
    for stack in &report.stacks {
        assert_eq!(stack.drift.as_deref(), Some("DETECTION_UNAVAILABLE"));
        assert!(stack
            .drift_note
            .as_deref()
            .unwrap()
            .contains("does not implement cloudformation:DetectStackDrift"));
    }
    assert!(!report.healthy());
}

#[test]
fn a_detection_past_the_deadline_is_reported_and_stacks_not_deployed_are_skipped() {
    let bundle = bundle("local");
    let mut cloud = FakeCloud::default();
    cloud.drift.insert(
        "pricewatch-local-foundation".into(),
        api::DriftDetection::InProgress,
    );
    deploy_with(&cloud, &bundle, &options());
    cloud
        .state
        .lock()
        .unwrap()
        .stacks
        .remove("pricewatch-local-streams");
    let short = Options {
        polling: Polling {
            timeout: std::time::Duration::from_millis(50),
            ..Polling::immediate()
        },
        ..options()
    };
    let report = status_with_drift(&cloud, &bundle, &short);
    let foundation = &report.stacks[0];
    assert_eq!(foundation.drift.as_deref(), Some("DETECTION_TIMED_OUT"));
    assert!(foundation
        .drift_note
        .as_deref()
        .unwrap()
        .contains("keeps going in AWS"));
    let streams = report.stacks.iter().find(|s| s.stack == "streams").unwrap();
    assert_eq!(streams.status, "NOT_DEPLOYED");
    assert_eq!(
        (streams.drift.as_deref(), streams.drift_note.as_deref()),
        (None, None)
    );
    assert_eq!(cloud.count("DetectStackDrift"), report.stacks.len() - 1);
    assert!(!report.healthy());
}
