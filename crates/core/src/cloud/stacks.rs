//! The CloudFormation interface the deploy engine needs, as plain data and
//! a trait. `aws/` implements it against the SDK; tests implement a fake.

use std::collections::BTreeMap;
use std::fmt;

pub use crate::cloud::{AwsError, AwsErrorKind, AwsResult, Identity, ObjectStore};

/// A deployed stack as DescribeStacks reports it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StackState {
    pub name: String,
    /// CloudFormation status, e.g. `UPDATE_COMPLETE`.
    pub status: String,
    pub status_reason: Option<String>,
    pub outputs: BTreeMap<String, String>,
    pub parameters: BTreeMap<String, String>,
    /// RFC 3339; creation time when never updated.
    pub last_updated: Option<String>,
    pub termination_protection: bool,
    /// `IN_SYNC`, `DRIFTED`, `NOT_CHECKED`, ...
    pub drift: Option<String>,
}

/// What a change set would do to one resource.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ResourceChange {
    /// `Add`, `Modify`, `Remove`, `Import`, `Dynamic`.
    pub action: String,
    pub logical_id: String,
    pub resource_type: String,
    /// `True`, `False`, `Conditional`; None for Add and Remove.
    pub replacement: Option<String>,
    /// Properties whose change forces recreation (`Always` or `Conditionally`).
    pub recreating_properties: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ChangeSetOutcome {
    /// Created and ready to execute.
    Ready(Vec<ResourceChange>),
    /// CloudFormation found nothing to change.
    Empty,
    Failed(String),
    /// Still being created.
    Pending,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StackEvent {
    pub id: String,
    /// RFC 3339.
    pub timestamp: String,
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: Option<String>,
}

/// A stack drift detection, as DescribeStackDriftDetectionStatus reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum DriftDetection {
    /// Still comparing the stack's resources with its template.
    InProgress,
    /// `IN_SYNC` or `DRIFTED`, and how many resources differ.
    Complete {
        status: String,
        drifted_resources: u32,
    },
    /// CloudFormation could not check every resource; why.
    Failed(String),
}

/// What a stack is made of: the body and inputs of a create or an update.
pub struct StackRequest<'a> {
    pub stack_name: &'a str,
    pub template_body: &'a str,
    pub parameters: &'a BTreeMap<String, String>,
    pub tags: &'a BTreeMap<String, String>,
    /// Stack policy (protected envs); set at creation.
    pub policy: Option<&'a str>,
    /// The role CloudFormation acts with (`deploy.cloudformation_role_arn`);
    /// None: the caller's own permissions.
    pub role_arn: Option<&'a str>,
}

/// CloudFormation, as much of it as pricewatch uses.
#[allow(async_fn_in_trait)] // used through generics in one runtime, never boxed
pub trait Stacks {
    /// None when the stack does not exist.
    async fn describe(&self, stack_name: &str) -> AwsResult<Option<StackState>>;
    /// Creates a new stack (termination protection on when it has a policy).
    async fn create_stack(&self, request: &StackRequest<'_>) -> AwsResult<()>;
    /// An UPDATE change set for an existing stack; returns its id, or None
    /// when CloudFormation refuses it because nothing would change.
    async fn create_change_set(
        &self,
        request: &StackRequest<'_>,
        change_set_name: &str,
    ) -> AwsResult<Option<String>>;
    async fn change_set(
        &self,
        stack_name: &str,
        change_set_id: &str,
    ) -> AwsResult<ChangeSetOutcome>;
    async fn execute_change_set(&self, stack_name: &str, change_set_id: &str) -> AwsResult<()>;
    async fn delete_change_set(&self, stack_name: &str, change_set_id: &str) -> AwsResult<()>;
    /// Newest first; the most recent page is enough to follow an operation.
    async fn events(&self, stack_name: &str) -> AwsResult<Vec<StackEvent>>;
    async fn delete_stack(&self, stack_name: &str) -> AwsResult<()>;
    async fn set_termination_protection(&self, stack_name: &str, enabled: bool) -> AwsResult<()>;
    async fn set_stack_policy(&self, stack_name: &str, policy: &str) -> AwsResult<()>;
    async fn continue_update_rollback(&self, stack_name: &str) -> AwsResult<()>;
    /// Starts a drift detection of the whole stack; returns its id.
    async fn detect_drift(&self, stack_name: &str) -> AwsResult<String>;
    async fn drift_detection(&self, detection_id: &str) -> AwsResult<DriftDetection>;
}

impl fmt::Display for ResourceChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} ({})",
            self.action, self.logical_id, self.resource_type
        )?;
        match self.replacement.as_deref() {
            Some("True") => write!(f, " REPLACE"),
            Some("Conditional") => write!(f, " may REPLACE"),
            _ => Ok(()),
        }
    }
}
