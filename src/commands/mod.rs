//! One module per command. Each takes the resolved global settings and its
//! own arguments and returns an [`ExitStatus`]; errors carry context for
//! the user and are classified into exit codes in `main`.

mod render;
mod validate;

use std::path::PathBuf;

use anyhow::Context as _;

use crate::cli::{Cli, Command};
use crate::config::{Environment, Environments};
use crate::error::{ExitStatus, UsageError};
use crate::output::{Printer, Reporter, StderrReporter};

/// What every command gets: the project, where results and logs go, and the env asked for.
pub struct Session {
    pub project_dir: PathBuf,
    pub env_name: Option<String>,
    pub printer: Printer,
    pub reporter: Box<dyn Reporter>,
}

impl Session {
    fn from_cli(cli: &Cli) -> Session {
        let g = &cli.global;
        let level = if g.quiet { 0 } else { 1 + g.verbose };
        Session {
            project_dir: g.project_dir.clone(),
            env_name: g.env.clone(),
            printer: Printer { format: g.output },
            reporter: Box::new(StderrReporter { level }),
        }
    }

    pub fn environments(&self) -> Environments {
        Environments::new(&self.project_dir)
    }

    /// The env named by `--env`; a usage error (listing the envs) when missing.
    pub fn env_name(&self, command: &str) -> anyhow::Result<&str> {
        match &self.env_name {
            Some(name) => Ok(name),
            None => {
                let available = self.environments().list().unwrap_or_default();
                Err(UsageError(format!(
                    "`pricewatch {command}` needs --env <NAME>; environments: {}",
                    if available.is_empty() {
                        "none found".into()
                    } else {
                        available.join(", ")
                    }
                ))
                .into())
            }
        }
    }

    /// Loads and validates the env named by `--env`.
    pub fn load_env(&self, command: &str) -> anyhow::Result<Environment> {
        let name = self.env_name(command)?;
        self.environments()
            .load(name)
            .with_context(|| format!("cannot load env `{name}`"))
    }
}

pub fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    let session = Session::from_cli(&cli);
    match cli.command {
        Command::Render(args) => render::run(&session, args),
        Command::Validate(args) => validate::run(&session, args),
    }
}
