//! The deploy engine: plan, deploy, destroy and status over CloudFormation.
//! Stacks go in waves derived from the wiring, in parallel within a wave;
//! unchanged stacks are recognised by fingerprint without a change set;
//! stateful resources are never replaced by accident. AWS is reached only
//! through the traits in [`api`].

pub use pricewatch_core::cloud::stacks as api;
pub mod artifacts;
mod destroy;
mod engine;
mod plan;
pub(crate) mod rules;
mod status;

pub use engine::{
    outcome_text as engine_outcome_text, DeployError, DeployReport, Engine, Options, StackOutcome,
    StackResult, Target,
};
pub use plan::{PlanFile, PlannedStack, StackAction};
pub use status::{StackStatus, StatusReport};

#[cfg(test)]
mod fake;
#[cfg(test)]
mod tests;
