//! Pure deploy decisions: what a stack status means and what to do about
//! it, the no-op fingerprint, which changes are too dangerous to apply, the
//! stack policy of protected envs, and which events explain a failure.

use std::collections::BTreeMap;

use super::api::{ResourceChange, StackEvent};

/// Output that carries a deployed stack's fingerprint.
pub(crate) const FINGERPRINT_OUTPUT: &str = "PricewatchFingerprint";

/// Resource types whose replacement or removal loses data or breaks every
/// consumer: refused unless explicitly allowed.
pub(crate) const STATEFUL_TYPES: &[&str] = &[
    "AWS::Kinesis::Stream",
    "AWS::RedshiftServerless::Namespace",
    "AWS::S3::Bucket",
    "AWS::KMS::Key",
];

/// What a stack's status means for the next deploy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Condition {
    /// Not there (or only a REVIEW_IN_PROGRESS shell from a change set never executed).
    Missing,
    /// Stable; can be updated.
    Ready,
    /// An operation is running (maybe from an interrupted deploy).
    InProgress,
    /// Creation failed and rolled back; only deletion helps.
    FailedCreate,
    /// An update's rollback failed; continue the rollback.
    RollbackFailed,
    /// A deletion failed.
    DeleteFailed,
}

pub(crate) fn condition(status: &str) -> Condition {
    match status {
        "REVIEW_IN_PROGRESS" | "DELETE_COMPLETE" => Condition::Missing,
        "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "CREATE_FAILED" => Condition::FailedCreate,
        "UPDATE_ROLLBACK_FAILED" => Condition::RollbackFailed,
        "DELETE_FAILED" => Condition::DeleteFailed,
        s if s.ends_with("_IN_PROGRESS") => Condition::InProgress,
        _ => Condition::Ready,
    }
}

/// A change set created for a new stack but never executed: an empty
/// shell that blocks creating the stack.
pub(crate) fn is_review_shell(status: &str) -> bool {
    status == "REVIEW_IN_PROGRESS"
}

/// Whether the status reports a failure (worth reading the events for).
pub(crate) fn is_failure(status: &str) -> bool {
    status.contains("ROLLBACK") || status.ends_with("_FAILED")
}

/// Drift detection needs a settled stack that has resources: not one being
/// changed, never created, or left empty by a failed create.
pub(crate) fn drift_detectable(status: &str) -> bool {
    status.ends_with("_COMPLETE") && !matches!(status, "DELETE_COMPLETE" | "ROLLBACK_COMPLETE")
}

/// Whether a finished operation succeeded.
pub(crate) fn succeeded(status: &str) -> bool {
    matches!(
        status,
        "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "IMPORT_COMPLETE"
    )
}

/// The command that gets a stuck stack going again, if any.
pub(crate) fn recovery_command(condition: Condition, env: &str) -> Option<String> {
    match condition {
        Condition::FailedCreate | Condition::RollbackFailed => {
            Some(format!("pricewatch deploy --env {env} --recover"))
        }
        Condition::DeleteFailed => Some(format!("pricewatch destroy --env {env} --yes")),
        Condition::InProgress => Some(format!(
            "pricewatch status --env {env} (wait for it to finish)"
        )),
        Condition::Missing | Condition::Ready => None,
    }
}

/// Everything that decides what a stack becomes, hashed: if it equals the
/// deployed fingerprint the stack is unchanged and needs no change set.
pub(crate) fn fingerprint(
    template: &str,
    parameters: &BTreeMap<String, String>,
    tags: &BTreeMap<String, String>,
    policy: Option<&str>,
) -> String {
    let mut input = template.to_string();
    for (section, map) in [("parameters", parameters), ("tags", tags)] {
        input.push_str(&format!("\0{section}\0"));
        for (key, value) in map {
            input.push_str(&format!("{key}={value}\n"));
        }
    }
    input.push_str("\0policy\0");
    input.push_str(policy.unwrap_or(""));
    pricewatch_core::hash::sha256_hex(input.as_bytes())
}

/// The template actually submitted: the rendered one plus an output holding
/// its fingerprint (an output, not a tag, so a change does not re-tag
/// every resource).
pub(crate) fn with_fingerprint_output(template: &str, fingerprint: &str) -> Result<String, String> {
    let mut root: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(template).map_err(|e| format!("template is not YAML: {e}"))?;
    let mapping = root.as_mapping_mut().ok_or("template is not a mapping")?;
    let outputs = mapping
        .entry("Outputs".into())
        .or_insert_with(|| serde_yaml_ng::Value::Mapping(Default::default()));
    let outputs = outputs.as_mapping_mut().ok_or("Outputs is not a mapping")?;
    let mut output = serde_yaml_ng::Mapping::new();
    output.insert(
        "Description".into(),
        "pricewatch: what this deploy was (template, parameters, tags, policy)".into(),
    );
    output.insert("Value".into(), fingerprint.into());
    outputs.insert(
        FINGERPRINT_OUTPUT.into(),
        serde_yaml_ng::Value::Mapping(output),
    );
    serde_yaml_ng::to_string(&root).map_err(|e| format!("template does not serialize: {e}"))
}

/// A change the replacement guard refuses.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub logical_id: String,
    pub resource_type: String,
    pub what: &'static str,
    pub why: String,
}

/// Replacements and removals of stateful resources not in `allowed`.
pub(crate) fn dangerous_changes(changes: &[ResourceChange], allowed: &[String]) -> Vec<Refusal> {
    changes
        .iter()
        .filter(|c| STATEFUL_TYPES.contains(&c.resource_type.as_str()))
        .filter(|c| !allowed.contains(&c.logical_id))
        .filter_map(|c| {
            let what = match (c.action.as_str(), c.replacement.as_deref()) {
                ("Remove", _) => "delete",
                ("Modify", Some("True")) => "replace",
                ("Modify", Some("Conditional")) => "possibly replace",
                _ => return None,
            };
            let why = if c.action == "Remove" {
                "it is no longer in the template".to_string()
            } else if c.recreating_properties.is_empty() {
                "a change to it requires a new resource".to_string()
            } else {
                format!(
                    "changing {} requires a new resource",
                    c.recreating_properties.join(", ")
                )
            };
            Some(Refusal {
                logical_id: c.logical_id.clone(),
                resource_type: c.resource_type.clone(),
                what,
                why,
            })
        })
        .collect()
}

/// Stack policy for protected envs: updates allowed, but stateful resources
/// may not be replaced or deleted by any update.
pub(crate) fn protective_policy(stateful_logical_ids: &[String]) -> Option<String> {
    if stateful_logical_ids.is_empty() {
        return None;
    }
    let resources: Vec<String> = stateful_logical_ids
        .iter()
        .map(|id| format!("LogicalResourceId/{id}"))
        .collect();
    let policy = serde_json::json!({
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "Update:*", "Resource": "*"},
            {"Effect": "Deny", "Principal": "*", "Action": ["Update:Replace", "Update:Delete"], "Resource": resources}
        ]
    });
    Some(policy.to_string())
}

/// A policy that allows everything, set for the duration of an update that
/// was explicitly allowed to replace a protected resource.
pub(crate) const ALLOW_ALL_POLICY: &str =
    r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"Update:*","Resource":"*"}]}"#;

/// The events that explain a failure: the first resources that failed since
/// `since`, oldest first, without the "cancelled" noise that follows them.
pub(crate) fn root_causes(events: &[StackEvent], since: &str) -> Vec<StackEvent> {
    let mut failed: Vec<StackEvent> = events
        .iter()
        .filter(|e| e.timestamp.as_str() >= since)
        .filter(|e| e.status.ends_with("_FAILED"))
        .filter(|e| {
            let reason = e.reason.as_deref().unwrap_or("").to_ascii_lowercase();
            !reason.contains("cancelled") && !reason.contains("canceled")
        })
        .cloned()
        .collect();
    failed.sort_by(|a, b| a.timestamp.cmp(&b.timestamp));
    failed.truncate(3);
    failed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(action: &str, id: &str, kind: &str, replacement: Option<&str>) -> ResourceChange {
        ResourceChange {
            action: action.into(),
            logical_id: id.into(),
            resource_type: kind.into(),
            replacement: replacement.map(Into::into),
            recreating_properties: vec!["Name".into()],
        }
    }

    #[test]
    fn conditions() {
        assert_eq!(condition("CREATE_COMPLETE"), Condition::Ready);
        assert_eq!(condition("UPDATE_ROLLBACK_COMPLETE"), Condition::Ready);
        assert_eq!(condition("UPDATE_IN_PROGRESS"), Condition::InProgress);
        assert_eq!(
            condition("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"),
            Condition::InProgress
        );
        assert_eq!(condition("ROLLBACK_COMPLETE"), Condition::FailedCreate);
        assert_eq!(
            condition("UPDATE_ROLLBACK_FAILED"),
            Condition::RollbackFailed
        );
        assert_eq!(condition("REVIEW_IN_PROGRESS"), Condition::Missing);
        assert_eq!(condition("DELETE_FAILED"), Condition::DeleteFailed);
        assert!(succeeded("UPDATE_COMPLETE"));
        assert!(!succeeded("UPDATE_ROLLBACK_COMPLETE"));
        assert_eq!(
            recovery_command(Condition::FailedCreate, "dev").unwrap(),
            "pricewatch deploy --env dev --recover"
        );
        assert_eq!(recovery_command(Condition::Ready, "dev"), None);
    }

    #[test]
    fn fingerprint_covers_everything_that_shapes_a_stack() {
        let p = BTreeMap::from([("A".to_string(), "1".to_string())]);
        let t = BTreeMap::from([("env".to_string(), "dev".to_string())]);
        let base = fingerprint("T", &p, &t, None);
        assert_eq!(base, fingerprint("T", &p, &t, None));
        assert_ne!(base, fingerprint("T2", &p, &t, None));
        let p2 = BTreeMap::from([("A".to_string(), "2".to_string())]);
        assert_ne!(base, fingerprint("T", &p2, &t, None));
        assert_ne!(base, fingerprint("T", &p, &BTreeMap::new(), None));
        assert_ne!(base, fingerprint("T", &p, &t, Some("{}")));
        // A parameter cannot masquerade as a tag.
        assert_ne!(
            fingerprint("T", &p, &BTreeMap::new(), None),
            fingerprint("T", &BTreeMap::new(), &p, None)
        );
    }

    #[test]
    fn fingerprint_output_is_added_and_tags_survive() {
        let template = "Parameters:\n  Key:\n    Type: String\nResources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      KmsMasterKeyId: !Ref Key\nOutputs:\n  A:\n    Value: !GetAtt T.Arn\n";
        let out = with_fingerprint_output(template, "abc").unwrap();
        assert!(out.contains("!Ref Key"), "{out}");
        assert!(out.contains("!GetAtt T.Arn"), "{out}");
        assert!(out.contains("PricewatchFingerprint:"), "{out}");
        assert!(out.contains("Value: abc"), "{out}");
        let info = pricewatch_core::render::cfn::analyze(&out).unwrap();
        assert!(info.outputs.contains(FINGERPRINT_OUTPUT) && info.outputs.contains("A"));
        let no_outputs =
            with_fingerprint_output("Resources:\n  T:\n    Type: AWS::SNS::Topic\n", "x").unwrap();
        assert!(no_outputs.contains("PricewatchFingerprint"));
    }

    #[test]
    fn stateful_replacements_and_removals_are_refused_unless_allowed() {
        let changes = vec![
            change(
                "Modify",
                "ProductsStream",
                "AWS::Kinesis::Stream",
                Some("True"),
            ),
            change("Modify", "Bucket", "AWS::S3::Bucket", Some("Conditional")),
            change("Remove", "Key", "AWS::KMS::Key", None),
            change("Modify", "Topic", "AWS::SNS::Topic", Some("True")),
            change(
                "Modify",
                "Namespace",
                "AWS::RedshiftServerless::Namespace",
                Some("False"),
            ),
            change("Add", "NewStream", "AWS::Kinesis::Stream", None),
        ];
        let refused = dangerous_changes(&changes, &[]);
        let ids: Vec<&str> = refused.iter().map(|r| r.logical_id.as_str()).collect();
        assert_eq!(ids, ["ProductsStream", "Bucket", "Key"]);
        assert_eq!(refused[0].what, "replace");
        assert_eq!(refused[0].why, "changing Name requires a new resource");
        assert_eq!(refused[1].what, "possibly replace");
        assert_eq!(refused[2].what, "delete");
        let allowed = dangerous_changes(&changes, &["ProductsStream".into(), "Key".into()]);
        assert_eq!(allowed.len(), 1);
    }

    #[test]
    fn protective_policy_denies_replacing_stateful_resources() {
        let policy = protective_policy(&["Key".into(), "ArtifactsBucket".into()]).unwrap();
        let json: serde_json::Value = serde_json::from_str(&policy).unwrap();
        assert_eq!(json["Statement"][1]["Effect"], "Deny");
        assert_eq!(
            json["Statement"][1]["Resource"][1],
            "LogicalResourceId/ArtifactsBucket"
        );
        assert_eq!(protective_policy(&[]), None);
    }

    #[test]
    fn root_causes_are_the_first_real_failures() {
        let event = |ts: &str, id: &str, status: &str, reason: &str| StackEvent {
            id: format!("{id}-{ts}"),
            timestamp: ts.into(),
            logical_id: id.into(),
            resource_type: "AWS::X::Y".into(),
            status: status.into(),
            reason: Some(reason.into()),
        };
        let events = vec![
            event("2026-01-01T00:00:09Z", "Stack", "ROLLBACK_COMPLETE", ""),
            event(
                "2026-01-01T00:00:05Z",
                "Other",
                "CREATE_FAILED",
                "Resource creation cancelled",
            ),
            event(
                "2026-01-01T00:00:04Z",
                "Stream",
                "CREATE_FAILED",
                "Invalid ShardCount",
            ),
            event("2026-01-01T00:00:03Z", "Stream", "CREATE_IN_PROGRESS", ""),
            event(
                "2025-12-31T00:00:00Z",
                "Old",
                "CREATE_FAILED",
                "an older failure",
            ),
        ];
        let causes = root_causes(&events, "2026-01-01T00:00:00Z");
        assert_eq!(causes.len(), 1);
        assert_eq!(causes[0].logical_id, "Stream");
        assert_eq!(causes[0].reason.as_deref(), Some("Invalid ShardCount"));
    }
}
