//! Diagnostics: one [`Problem`] type for everything a check of the
//! project finds (config, templates, models, checks, the dashboard), each
//! with where it is.

use std::fmt;

/// One problem found while rendering or checking, with where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub location: String,
    pub message: String,
}

impl Problem {
    pub fn new(location: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            location: location.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}
